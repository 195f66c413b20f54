package io.libkv.raft;

import io.libkv.store.Config;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An embedded libkv cluster of N members inside this process, for tests and demos: each member has
 * its own node id ({@code n1}, {@code n2}, ...), data directory ({@code baseDir/n1}, ...) and
 * loopback port. Members can be stopped and restarted one at a time (a restart reuses the data
 * directory and port), added and removed.
 *
 * <pre>{@code
 * try (EmbeddedCluster cluster = EmbeddedCluster.start(3, tempDir);
 *     Store store = cluster.openStore()) {
 *   store.put("a", "1".getBytes(UTF_8), null);
 *   cluster.stop(cluster.awaitLeader().id());   // the others elect a new leader
 *   store.get("a");                              // a store on a surviving node goes on
 * }
 * }</pre>
 *
 * <p>Defaults suit one JVM on a small machine: election timeout 300-600 ms (set {@code
 * embedded.electionTimeoutMs} in {@link Builder#config} to change it). Thread-safe. {@link
 * #close()} stops every member in parallel.
 */
public final class EmbeddedCluster implements AutoCloseable {
  private static final String TEST_ELECTION_TIMEOUT_MS = "300";

  private final Path baseDir;
  private final Config base;
  private final String host;
  private final Map<String, String> endpoints = new LinkedHashMap<>();
  private final Map<String, EmbeddedNode> running = new LinkedHashMap<>();
  private final Map<String, Config> overrides = new LinkedHashMap<>();
  private final AtomicInteger nextStore = new AtomicInteger();
  private final java.util.function.Function<String, Config.TlsFiles> memberTls;
  private int nextId;

  private EmbeddedCluster(Builder b) {
    this.baseDir = Objects.requireNonNull(b.baseDir, "baseDir");
    Config.Builder cb = b.config.toBuilder();
    if (b.config.option(RaftSettings.ELECTION_TIMEOUT_MS).isEmpty()) {
      cb.option(RaftSettings.ELECTION_TIMEOUT_MS, TEST_ELECTION_TIMEOUT_MS);
    }
    this.base = cb.build();
    RaftSettings.of(base); // check the options once, up front
    this.host = b.host;
    this.memberTls = b.memberTls;
    for (int port : LoopbackPorts.reserve(host, b.nodes)) {
      String id = "n" + (++nextId);
      endpoints.put(id, id + "=" + host + ":" + port);
    }
  }

  /**
   * Starts {@code nodes} members under {@code baseDir} and returns once every one listens.
   *
   * @throws IllegalArgumentException if {@code nodes < 1}
   */
  public static EmbeddedCluster start(int nodes, Path baseDir) {
    return builder().nodes(nodes).baseDir(baseDir).start();
  }

  /** Returns a builder: 3 members on 127.0.0.1 by default. */
  public static Builder builder() {
    return new Builder();
  }

  private void startAll() {
    List<String> ids = new ArrayList<>(endpoints.keySet());
    try {
      forEachInParallel(ids, this::startMember);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** The endpoints of every member, running or not ({@code id=host:port}). */
  public synchronized List<String> endpoints() {
    return List.copyOf(endpoints.values());
  }

  /** The ids of the running members. */
  public synchronized List<String> runningIds() {
    return List.copyOf(running.keySet());
  }

  /**
   * Returns a running member.
   *
   * @throws IllegalArgumentException if no member of that id is running
   */
  public synchronized EmbeddedNode node(String id) {
    EmbeddedNode n = running.get(id);
    if (n == null) {
      throw new IllegalArgumentException(
          "no running member " + id + "; running: " + running.keySet());
    }
    return n;
  }

  /** Returns the running member that leads now, if any. */
  public synchronized Optional<EmbeddedNode> leader() {
    return running.values().stream().filter(EmbeddedNode::isLeader).findFirst();
  }

  /**
   * Waits until a running member leads and returns it.
   *
   * @throws StoreException if none does within {@code timeout}
   */
  public EmbeddedNode awaitLeader(Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<EmbeddedNode> l = leader();
      if (l.isPresent()) {
        return l.get();
      }
      if (System.nanoTime() - end > 0) {
        throw new StoreException("no leader elected within " + timeout + " among " + runningIds());
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StoreException("interrupted while waiting for a leader", e);
      }
    }
  }

  /** Waits up to 30 s for a leader. */
  public EmbeddedNode awaitLeader() {
    return awaitLeader(Duration.ofSeconds(30));
  }

  /**
   * Opens a store on a running member (round robin over the running members). The caller closes it;
   * stopping its member closes it too.
   */
  public Store openStore() {
    List<EmbeddedNode> nodes;
    synchronized (this) {
      nodes = List.copyOf(running.values());
    }
    if (nodes.isEmpty()) {
      throw new StoreException("no member of the cluster is running");
    }
    return nodes.get(Math.floorMod(nextStore.getAndIncrement(), nodes.size())).openStore();
  }

  /** Opens a store on the running member {@code id}. */
  public Store openStore(String id) {
    return node(id).openStore();
  }

  /** Stops a member, keeping its data directory (its stores are closed). */
  public void stop(String id) {
    EmbeddedNode n;
    synchronized (this) {
      n = running.remove(id);
    }
    if (n == null) {
      throw new IllegalArgumentException("no running member " + id);
    }
    n.close();
  }

  /**
   * Starts a stopped member again on its data directory and port, and returns it once it is in
   * touch with a leader again (or after {@link #REJOIN_WAIT}, if the rest of the cluster has no
   * leader). The wait matters after a long stop: the leader's connection to a member that was down
   * retries with gRPC's growing reconnect backoff, so a restarted member can take several seconds
   * to hear from it, and until then it cannot serve linearizable reads.
   */
  public EmbeddedNode restart(String id) {
    return restart(id, null);
  }

  /**
   * As {@link #restart(String)}, with a configuration for this member from now on instead of the
   * cluster's (its node id and data directory are set by the cluster): for example new TLS
   * certificates, replaced one member at a time by rolling restarts.
   */
  public EmbeddedNode restart(String id, Config config) {
    EmbeddedNode n = startMember(id, config);
    if (leader().filter(l -> l != n).isPresent()) {
      awaitLeaderKnown(n);
    }
    return n;
  }

  private EmbeddedNode startMember(String id) {
    return startMember(id, null);
  }

  private EmbeddedNode startMember(String id, Config config) {
    List<String> peers;
    synchronized (this) {
      if (!endpoints.containsKey(id)) {
        throw new IllegalArgumentException("no member " + id + " in " + endpoints.keySet());
      }
      if (running.containsKey(id)) {
        throw new IllegalStateException("member " + id + " is running");
      }
      peers = List.copyOf(endpoints.values());
    }
    if (config != null) {
      Config c =
          config.option(RaftSettings.ELECTION_TIMEOUT_MS).isPresent()
              ? config
              : config.toBuilder()
                  .option(RaftSettings.ELECTION_TIMEOUT_MS, TEST_ELECTION_TIMEOUT_MS)
                  .build();
      synchronized (this) {
        overrides.put(id, c);
      }
    }
    EmbeddedNode n = EmbeddedNode.start(peers, memberConfig(id));
    synchronized (this) {
      running.put(id, n);
    }
    return n;
  }

  /** How long {@link #restart} waits for the restarted member to hear from a leader. */
  public static final Duration REJOIN_WAIT = Duration.ofSeconds(60);

  private static void awaitLeaderKnown(EmbeddedNode n) {
    long deadline = System.nanoTime() + REJOIN_WAIT.toNanos();
    while (!n.knowsLeader() && System.nanoTime() - deadline < 0) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * Adds a new member: starts it empty, then changes the cluster's configuration to include it (it
   * catches up by snapshot and log before the change commits).
   */
  public EmbeddedNode addNode() {
    String id;
    List<String> peers;
    synchronized (this) {
      id = "n" + (++nextId);
      endpoints.put(id, id + "=" + host + ":" + LoopbackPorts.reserve(host));
      peers = List.copyOf(endpoints.values());
    }
    EmbeddedNode n = EmbeddedNode.join(peers, memberConfig(id));
    synchronized (this) {
      running.put(id, n);
    }
    n.setMembers(peers);
    return n;
  }

  /** Removes a member from the configuration, then stops it. */
  public void removeNode(String id) {
    List<String> peers;
    EmbeddedNode via;
    synchronized (this) {
      if (endpoints.remove(id) == null) {
        throw new IllegalArgumentException("no member " + id);
      }
      peers = List.copyOf(endpoints.values());
      via =
          running.entrySet().stream()
              .filter(e -> !e.getKey().equals(id))
              .map(Map.Entry::getValue)
              .findFirst()
              .orElseThrow(() -> new IllegalStateException("no other running member"));
    }
    via.setMembers(peers);
    EmbeddedNode n;
    synchronized (this) {
      n = running.remove(id);
    }
    if (n != null) {
      n.close();
    }
  }

  private Config memberConfig(String id) {
    Config c;
    boolean overridden;
    synchronized (this) {
      overridden = overrides.containsKey(id);
      c = overrides.getOrDefault(id, base);
    }
    Config.Builder b = c.toBuilder().nodeId(id).dataDir(baseDir.resolve(id));
    if (memberTls != null && !overridden) {
      b.tls(memberTls.apply(id));
    }
    return b.build();
  }

  /** Stops every running member, in parallel. Idempotent. */
  @Override
  public void close() {
    List<EmbeddedNode> nodes;
    synchronized (this) {
      nodes = new ArrayList<>(running.values());
      running.clear();
    }
    forEachInParallel(nodes, EmbeddedNode::close);
  }

  /**
   * Runs {@code action} on every item, each on its own short-lived thread (members start and stop
   * mostly by waiting, so they should not queue behind a small common pool), and rethrows the first
   * failure.
   */
  private static <T> void forEachInParallel(List<T> items, java.util.function.Consumer<T> action) {
    List<Thread> threads = new ArrayList<>();
    java.util.concurrent.atomic.AtomicReference<RuntimeException> failure =
        new java.util.concurrent.atomic.AtomicReference<>();
    for (T item : items) {
      Thread t =
          new Thread(
              () -> {
                try {
                  action.accept(item);
                } catch (RuntimeException e) {
                  failure.compareAndSet(null, e);
                }
              },
              "libkv-cluster-" + item);
      t.start();
      threads.add(t);
    }
    boolean interrupted = false;
    for (Thread t : threads) {
      while (true) {
        try {
          t.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (failure.get() != null) {
      throw failure.get();
    }
  }

  @Override
  public synchronized String toString() {
    return "EmbeddedCluster" + endpoints.values() + " running " + running.keySet();
  }

  /** Builds an {@link EmbeddedCluster}. */
  public static final class Builder {
    private int nodes = 3;
    private Path baseDir;
    private Config config = Config.defaults();
    private String host = "127.0.0.1";
    private java.util.function.Function<String, Config.TlsFiles> memberTls;

    private Builder() {}

    /** How many members, at least 1 (default 3). */
    public Builder nodes(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("a cluster needs at least 1 member, was " + n);
      }
      this.nodes = n;
      return this;
    }

    /** The directory under which each member gets its data directory (required). */
    public Builder baseDir(Path dir) {
      this.baseDir = Objects.requireNonNull(dir, "dir");
      return this;
    }

    /**
     * The configuration every member and store uses (clock, value limit, {@code embedded.*}
     * options); its nodeId and dataDir are ignored.
     */
    public Builder config(Config config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /**
     * Mutual TLS with each member's own certificate: {@code files} gives member {@code id}'s
     * certificate, key and CA, the certificate naming the member ({@code URI:libkv://member/<id>};
     * see the raft module's README). Called for each member as it starts, members added later
     * included; it replaces the TLS files of {@link #config}. A member restarted with {@link
     * #restart(String, Config)} uses that configuration's files instead.
     */
    public Builder memberTls(java.util.function.Function<String, Config.TlsFiles> files) {
      this.memberTls = Objects.requireNonNull(files, "files");
      return this;
    }

    /** The loopback address to bind (default 127.0.0.1). */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    /** Starts the cluster. */
    public EmbeddedCluster start() {
      EmbeddedCluster c = new EmbeddedCluster(this);
      c.startAll();
      return c;
    }
  }
}
