package io.libkv.raft;

import io.libkv.spi.JvmAccess;
import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.CommandResult;
import io.libkv.storage.engine.EngineOptions;
import io.libkv.storage.engine.EngineStore;
import io.libkv.storage.engine.KvEngine;
import io.libkv.storage.engine.KvReader;
import io.libkv.storage.engine.LeaseReaper;
import io.libkv.storage.engine.ReadView;
import io.libkv.storage.engine.WatchHub;
import io.libkv.store.Config;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * One member of an embedded libkv cluster (Backend.EMBEDDED) running in this process: a Raft server
 * (Apache Ratis) whose state machine is the LMDB engine of {@code libkv-storage}, plus the node's
 * change fan-out and lease reaper. Stores opened on it ({@link #openStore()}) accept every call:
 * writes go through the Raft log to whichever member leads, reads are linearizable (Raft ReadIndex,
 * served by this member's own copy once it has caught up).
 *
 * <h2>Running a node</h2>
 *
 * <pre>{@code
 * EmbeddedNode node = EmbeddedNode.start(
 *     List.of("n1=10.0.0.1:7001", "n2=10.0.0.2:7001", "n3=10.0.0.3:7001"),
 *     Config.builder().nodeId("n1").dataDir(Path.of("/var/lib/libkv/n1")).build());
 * try (Store store = node.openStore()) { ... }
 * node.close();
 * }</pre>
 *
 * or as a process: {@code java -cp ... io.libkv.raft.EmbeddedNode --id n1 --peers
 * n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003 --data-dir /tmp/n1}, which blocks until the
 * process is stopped (SIGTERM/SIGINT close the node cleanly).
 *
 * <p>Data directory layout: {@code raft/} (the Raft log, metadata and snapshots) and {@code kv/}
 * (the LMDB copy of the data). A node restarted on the same directory recovers and replays the log
 * from its last snapshot; a node whose {@code kv/} is missing is rebuilt from its snapshot and log,
 * or from the leader's snapshot.
 *
 * <p>The node is its own handle: stores opened on it are views of it, and closing them never stops
 * it; {@link #close()} does (a member opened through {@code LibKV.newStore} with a node id instead
 * stops when its last store closes). {@link #admin()} opens a handle on the cluster: members,
 * membership changes, leadership transfer.
 *
 * <p>Options: see {@link EmbeddedStoreProvider}. Thread-safe. {@link #close()} stops everything the
 * node started (stores opened on it included).
 */
public final class EmbeddedNode implements AutoCloseable {
  private final Config config;
  private final RaftSettings settings;
  private final RaftMember<EngineState> member;
  private final KvEngine engine;
  private final WatchHub hub;
  private final LeaseReaper reaper;
  private final RaftChannel<Command, CommandResult> channel;
  private final Consumer<Boolean> leadership;
  private final AppliedIndexWaiter applied;
  private final TlsProbe probe;
  // Sends the writes that queued up behind an entry this member took and applied: never its
  // apply thread, which completes those entries.
  private final ExecutorService redrain;
  private final Set<Store> stores = ConcurrentHashMap.newKeySet();
  private final CountDownLatch closed = new CountDownLatch(1);
  // Counted down when the node is closed or its member stopped by itself.
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile StoreException failure;
  private volatile boolean closing;

  private EmbeddedNode(List<String> peers, Config config, boolean join) {
    this.config = Objects.requireNonNull(config, "config");
    this.settings = RaftSettings.of(config);
    String id =
        config
            .nodeId()
            .orElseThrow(() -> new IllegalArgumentException("an EMBEDDED member needs a nodeId"));
    Path dataDir =
        config
            .dataDir()
            .orElseThrow(
                () -> new IllegalArgumentException("EMBEDDED member " + id + " needs a dataDir"));
    List<RaftPeer> all = Peers.parse(peers);
    RaftPeer self =
        all.stream()
            .filter(p -> p.getId().toString().equals(id))
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "nodeId '" + id + "' is not one of the endpoints " + peers));
    JvmAccess.requireNioAccess("libkv EMBEDDED backend");
    RaftGroup group = Peers.group(settings.group, all);
    this.probe = new TlsProbe(peers, settings.tls);
    // The Raft log is the durable record: LMDB need not fsync every batch (a lost tail is
    // replayed from the log after a crash).
    this.member =
        RaftMember.start(
            self,
            group,
            settings,
            dataDir,
            dir ->
                new EngineState(
                    KvEngine.open(dir, EngineOptions.builder().sync(false).build()),
                    config.maxValueBytes()),
            join);
    this.engine = member.state.engine();
    RaftChannel<Command, CommandResult> ch = null;
    WatchHub h = null;
    LeaseReaper r = null;
    this.applied = new AppliedIndexWaiter(engine);
    this.redrain =
        Executors.newSingleThreadExecutor(
            task -> {
              Thread t = new Thread(task, "libkv-submit-" + id);
              t.setDaemon(true);
              return t;
            });
    try {
      ch =
          new RaftChannel<>(
              group,
              member.asLocal(),
              settings,
              CommandCodec::encodeCommands,
              CommandCodec::decodeResults,
              io.libkv.storage.engine.CommandCodec::encodedLength,
              applied::await,
              redrain);
      h = new WatchHub(engine, id);
      RaftChannel<Command, CommandResult> c = ch;
      r = new LeaseReaper(engine, cmd -> submit(c, cmd), config.clock(), id);
    } catch (RuntimeException e) {
      if (r != null) {
        r.close();
      }
      if (h != null) {
        h.close();
      }
      if (ch != null) {
        ch.close();
      }
      redrain.shutdown();
      member.close();
      throw e;
    }
    this.channel = ch;
    this.hub = h;
    this.reaper = r;
    LeaseReaper rr = r;
    this.leadership =
        leader -> {
          if (leader) {
            rr.takeCharge();
          } else {
            rr.resign();
          }
        };
    member.addLeadershipListener(leadership);
    member.addFailureListener(this::memberStopped);
  }

  /**
   * The member stopped by itself (a full disk, an I/O error): its stores fail from now on with the
   * reason instead of waiting for applies that will never come. Ratis thread: must not block.
   */
  private void memberStopped(String why) {
    StoreException e = new StoreException("EMBEDDED member " + id() + " has stopped: " + why);
    failure = e;
    applied.close(e);
    stopped.countDown();
  }

  /** Throws the member's failure, if it stopped by itself. */
  private void checkRunning() {
    StoreException f = failure;
    if (f != null) {
      throw new StoreException(f.getMessage(), f);
    }
  }

  /**
   * Why this node's member stopped by itself (a full disk or an I/O error while writing its log or
   * its data: see the raft module's README), if it did. Such a node serves nothing more; its stores
   * fail with this reason. Free the cause, close the node and start it again: it catches up.
   */
  public Optional<String> failure() {
    StoreException f = failure;
    return f == null ? Optional.empty() : Optional.of(f.getMessage());
  }

  /**
   * Starts the member {@code config.nodeId()} of the cluster whose every member is listed in {@code
   * peers} ({@code id=host:port}), storing its data in {@code config.dataDir()}. Returns once the
   * server listens; the cluster serves requests once a majority of members is up.
   *
   * @throws IllegalArgumentException if the peers or the configuration are invalid, or the node id
   *     is not among the peers
   * @throws IllegalStateException if the JVM lacks the flags LMDB needs ({@link
   *     JvmAccess#REQUIRED_FLAGS})
   * @throws StoreException if the data directory or the port cannot be used
   */
  public static EmbeddedNode start(List<String> peers, Config config) {
    return new EmbeddedNode(peers, config, false);
  }

  /**
   * Starts a NEW member that is not yet part of the cluster's configuration: it starts with no
   * configuration, takes no part and waits to be added with {@link ClusterAdmin#addMember} (or
   * {@link EmbeddedCluster#addNode}, another member's {@link #setMembers}), then catches up by
   * snapshot and log; until then it answers "not ready" and its stores wait for a leader. One to be
   * added with {@link ClusterAdmin#addLearner} is started with the option {@code
   * embedded.joinAs=learner}: it starts as a learner of the group (a Ratis listener) that never
   * campaigns. {@code peers} lists the cluster including this member. On a data directory it
   * already used, the member recovers with the configuration its log holds, as {@link #start} does.
   *
   * @throws IllegalArgumentException as {@link #start}
   * @throws StoreException as {@link #start}
   */
  public static EmbeddedNode join(List<String> peers, Config config) {
    return new EmbeddedNode(peers, config, true);
  }

  /** This member's id. */
  public String id() {
    return member.self.getId().toString();
  }

  /** This member's endpoint, {@code id=host:port}. */
  public String endpoint() {
    return Peers.endpoint(member.self);
  }

  /** Whether this member currently leads the cluster. */
  public boolean isLeader() {
    return member.isLeader();
  }

  /**
   * Whether this member knows the cluster's current leader. A member that is not yet in touch with
   * a leader (just started, mid-election, or partitioned) answers linearizable reads and writes
   * only once it is.
   */
  public boolean knowsLeader() {
    return member.knowsLeader();
  }

  /** The data directory. */
  public Path dataDir() {
    return member.dataDir;
  }

  /**
   * What this member reports of itself now: role, term, the leader it knows, commit and applied
   * index, log and snapshot sizes, free disk, and why it stopped if it did. Never blocks on the
   * cluster; works on a stopped member too.
   */
  public MemberStatus status() {
    return member.status(engine.appliedIndex(), failure().orElse(null));
  }

  /** The index of the last Raft log entry applied to this member's copy of the data. */
  public long appliedIndex() {
    return engine.appliedIndex();
  }

  /**
   * Opens a store served by this member. Close it when done; closing the node closes it too.
   *
   * @throws StoreException if the node is closed
   */
  public Store openStore() {
    return openStore(() -> {});
  }

  /** Opens a store that runs {@code onClose} after closing. */
  Store openStore(Runnable onClose) {
    if (closing) {
      throw new StoreException("EMBEDDED node " + id() + " is closed");
    }
    checkRunning();
    KvReader reader = settings.linearizableReads ? this::linearizableRead : this::localRead;
    EngineStore s =
        new EngineStore(
            "embedded-" + id(),
            cmd -> submit(channel, cmd),
            reader,
            hub,
            config,
            closed -> {
              stores.remove(closed);
              onClose.run();
            });
    stores.add(s);
    return s;
  }

  private <T> T linearizableRead(Function<ReadView, T> fn) {
    checkRunning();
    await(channel.barrier(), "linearizable read (ReadIndex)");
    return engine.read(fn);
  }

  /** Reads the local copy as it is, once it has this member's stores' acknowledged writes. */
  private <T> T localRead(Function<ReadView, T> fn) {
    checkRunning();
    await(channel.ownWritesApplied(), "read of the local copy (waiting for its own writes)");
    return engine.read(fn);
  }

  /**
   * Replaces the cluster's members (Raft joint consensus: the call returns once the new
   * configuration is committed; new members catch up by snapshot first). Removed members stop
   * taking part.
   *
   * @param peers every member of the new configuration, {@code id=host:port}
   * @throws io.libkv.store.NotReachableException if the change does not complete in time
   */
  public void setMembers(List<String> peers) {
    try {
      channel.setMembers(Peers.parse(peers));
    } catch (IOException e) {
      throw RatisErrors.map(e, channel.endpoints(), "membership change to " + peers, probe);
    }
  }

  /**
   * Saves a consistent snapshot of the cluster's data to {@code file}, taken on this member once it
   * has applied every write acknowledged before the call (see {@link EmbeddedSnapshots}); the file
   * is replaced only once the whole snapshot is written and synced.
   *
   * @return the Raft log index the snapshot's data holds every write up to
   * @throws StoreException if the member cannot confirm it is up to date, or the copy fails
   * @throws java.io.UncheckedIOException if {@code file} cannot be written
   */
  public long saveSnapshot(Path file) {
    checkRunning();
    return SnapshotFile.download(channel, file, EmbeddedSnapshots.waitMs(settings)).appliedIndex();
  }

  /**
   * Opens a handle on the cluster this member belongs to: every member's status, membership
   * changes, leadership transfer (see {@link ClusterAdmin}). It reaches the members over the
   * network as a client would, with this member's TLS and options, starting from the configuration
   * this member knows. Close it when done; closing it does not stop this member, and closing this
   * member does not close it.
   */
  public ClusterAdmin admin() {
    java.util.Map<String, RaftPeer> peers = new java.util.LinkedHashMap<>();
    MemberReportCodec.Report r = member.report();
    for (List<String> eps : List.of(List.of(endpoint()), r.voters(), r.learners())) {
      eps.forEach(e -> peers.putIfAbsent(Peers.parse(e).getId().toString(), Peers.parse(e)));
    }
    channel
        .endpoints()
        .forEach(e -> peers.putIfAbsent(Peers.parse(e).getId().toString(), Peers.parse(e)));
    return new RaftClusterAdmin(List.copyOf(peers.values()), settings);
  }

  /** Blocks until {@link #close()} has finished. */
  public void awaitClose() throws InterruptedException {
    closed.await();
  }

  /**
   * Blocks until the node is closed or its member stopped by itself ({@link #failure()} then says
   * why); for a process that runs one member and should exit when it can no longer serve.
   */
  public void awaitStop() throws InterruptedException {
    stopped.await();
  }

  /** Closes every store opened on the node, then stops the member. Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closing) {
        awaitQuietly();
        return;
      }
      closing = true;
    }
    try {
      for (Store s : new ArrayList<>(stores)) {
        s.close();
      }
      member.removeLeadershipListener(leadership);
      reaper.close();
      hub.close();
      channel.close();
      redrain.shutdown();
      applied.close(new StoreException("EMBEDDED node " + id() + " is closed"));
      member.close();
    } finally {
      closed.countDown();
      stopped.countDown();
    }
  }

  private void awaitQuietly() {
    try {
      closed.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Counts of this member's work now: open watches, watch events dropped for slow readers, live
   * leases and queued writes. Cheap (no disk scan, one LMDB statistics call); never blocks on the
   * cluster; works on a closed node too (its leases then read {@code -1}).
   */
  public MemberCounters counters() {
    long leases;
    try {
      leases = engine.liveLeases();
    } catch (IllegalStateException | StoreException e) {
      leases = -1; // the engine is closed: nothing to count
    }
    return new MemberCounters(
        hub.openWatches(), hub.droppedWatchEvents(), leases, channel.pendingWrites());
  }

  // -------------------------------------------------------------------------------- plumbing

  private CompletableFuture<CommandResult> submit(
      RaftChannel<Command, CommandResult> ch, Command cmd) {
    StoreException f = failure;
    if (f != null) {
      return CompletableFuture.failedFuture(new StoreException(f.getMessage(), f));
    }
    long ms = settings.callWaitMs();
    return bounded(
        ch.write(cmd).orTimeout(ms, TimeUnit.MILLISECONDS), ch.endpoints(), "write " + cmd, probe);
  }

  /**
   * Maps the failure of a bounded Raft call; a bare "no answer" is checked with {@code probe} for a
   * TLS refusal.
   */
  static <T> CompletableFuture<T> bounded(
      CompletableFuture<T> f, List<String> endpoints, String what, TlsProbe probe) {
    return f.exceptionallyCompose(e -> RatisErrors.mapAsync(e, endpoints, what, probe));
  }

  private <T> T await(CompletableFuture<T> f, String what) {
    long ms = settings.callWaitMs();
    try {
      return f.get(ms, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted during " + what, e);
    } catch (ExecutionException e) {
      throw RatisErrors.map(e.getCause(), channel.endpoints(), what, probe);
    } catch (TimeoutException e) {
      throw RatisErrors.map(
          new io.libkv.store.NotReachableException(
              channel.endpoints(), what + " got no answer within " + ms + " ms", e),
          channel.endpoints(),
          what,
          probe);
    }
  }

  RaftMember<EngineState> member() {
    return member;
  }

  /** The channel every store opened on this node shares. */
  RaftChannel<Command, CommandResult> channel() {
    return channel;
  }

  KvEngine engine() {
    return engine;
  }

  LeaseReaper reaper() {
    return reaper;
  }

  RaftPeerId peerId() {
    return member.self.getId();
  }

  @Override
  public String toString() {
    return "EmbeddedNode[" + endpoint() + ", " + member.dataDir + "]";
  }

  /**
   * Runs one member until the process is stopped: {@code --id ID --peers
   * ID=HOST:PORT,ID=HOST:PORT,... --data-dir DIR [--join] [--option NAME=VALUE]... [--tls-cert
   * CERT.pem --tls-key KEY.pem --tls-ca CA.pem]} (the three TLS files switch on mutual TLS, as
   * {@link Config.TlsFiles}; read by {@link NodeOptions#parse}).
   */
  public static void main(String[] args) throws InterruptedException {
    EmbeddedNode node = NodeOptions.parse(args).start();
    Runtime.getRuntime().addShutdownHook(new Thread(node::close, "libkv-node-shutdown"));
    System.out.println("libkv node " + node.endpoint() + " running, data in " + node.dataDir());
    node.awaitStop();
    if (node.failure().isPresent()) {
      System.err.println("libkv node " + node.endpoint() + ": " + node.failure().get());
      node.close();
      System.exit(1);
    }
    node.awaitClose();
  }
}
