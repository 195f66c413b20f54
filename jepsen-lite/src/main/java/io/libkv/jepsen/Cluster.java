package io.libkv.jepsen;

import io.libkv.raft.LoopbackPorts;
import io.libkv.store.Backend;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The cluster under test: N nodes, each a {@link NodeMain} JVM process on loopback, every
 * peer-to-peer link passing through a {@link FaultProxy}.
 *
 * <p>How one directed link gets its own proxy although every node is given the same endpoints
 * ({@code n2=n2:7002}): each node process resolves names with its own hosts file ({@code
 * -Djdk.net.hosts.file}), where its own name is 127.0.0.1 (where it binds) and node j's name is
 * 127.0.i.j, the address of the proxy for "node i opens a connection to node j", which forwards to
 * 127.0.0.1 at node j's port. Raft configuration entries carry names, not addresses, so this
 * survives leader changes.
 *
 * <p>Threading: one thread drives it (the nemesis); status queries are thread-safe.
 */
final class Cluster implements AutoCloseable {
  /** One node: its ports, files and (while running) process. */
  static final class Node {
    final String id;
    final int index;
    final int raftPort;
    final int controlPort;
    final Path dataDir;
    final Path hostsFile;
    final Path logFile;
    final int peerPort;

    /** The harness's NodeMain process of this node. */
    volatile Process process;

    /** For the etcd reference: the etcd server the NodeMain is a client of; else {@code null}. */
    volatile Process server;

    volatile boolean paused;

    /**
     * Whether the harness believes this node is in the Raft configuration. Spare nodes (kept for
     * the membership nemesis) start outside it; a node removed by the nemesis leaves it.
     */
    volatile boolean member;

    /** Whether this node joined the cluster during the run (its watch, if any, started late). */
    volatile boolean joined;

    /** With a process clock: how far (seconds) the node's whole clock is ahead of the real one. */
    double processClockOffsetS;

    /** With a process clock: the file libfaketime reads the node's offset from. */
    final Path faketimeFile;

    /** With crash simulation: where crashsim keeps the undo journals of unsynced writes. */
    final Path undoDir;

    /** When the harness last launched this node's process (System.nanoTime). */
    volatile long launchedNs;

    /** How long (ms) the node's last start took from launch until its control port answered. */
    volatile long lastStartMs;

    /** Whether the node's last launch used the class data sharing archive. */
    volatile boolean lastStartShared;

    Node(String id, int index, int raftPort, int controlPort, int peerPort, Path dir) {
      this.id = id;
      this.peerPort = peerPort;
      this.index = index;
      this.raftPort = raftPort;
      this.controlPort = controlPort;
      this.dataDir = dir.resolve(id + "-data");
      this.hostsFile = dir.resolve(id + ".hosts");
      this.logFile = dir.resolve(id + ".log");
      this.faketimeFile = dir.resolve(id + ".faketime");
      this.undoDir = dir.resolve(id + "-undo");
    }

    /** The process faults hit: the etcd server for the etcd reference, else the node itself. */
    Process target() {
      return server != null ? server : process;
    }

    boolean running() {
      Process p = target();
      return p != null && p.isAlive();
    }

    @Override
    public String toString() {
      return id;
    }
  }

  private final Backend backend;
  private final Path dir;
  private final Map<String, String> options;
  private final PrintStream log;
  private final List<Node> nodes = new ArrayList<>();
  private final Map<String, Link> links = new LinkedHashMap<>();
  private final List<FaultProxy> proxies = new ArrayList<>();
  private final int size;
  private final NodeLauncher launcher;

  /** A cluster with no spare nodes, whose processes run on the real clock. */
  Cluster(Backend backend, int size, Path dir, Map<String, String> options, PrintStream log) {
    this(backend, size, 0, false, false, dir, options, log);
  }

  /**
   * Allocates ports, writes hosts files and opens the proxies; {@link #start()} launches the nodes.
   *
   * @param backend EMBEDDED for the real thing; LMDB (one node, no peers) to test the harness
   * @param size the members the cluster starts with
   * @param spares nodes wired like the others (ports, hosts, proxies) but started only when the
   *     membership nemesis adds them (EMBEDDED only)
   * @param processClock run each node process under libfaketime, so {@link #shiftProcessClock}
   *     moves every clock the JVM reads (System.nanoTime and currentTimeMillis, timed waits):
   *     Ratis' election and heartbeat timers as well as the store's leases
   * @param crashSim run each node process with the crashsim library (compiled here with {@code
   *     cc}), so {@link #crash} can undo every write the node had not synced
   * @param options {@code embedded.*} options given to every node
   * @throws IllegalStateException if {@code processClock} is asked for and libfaketime is missing,
   *     or {@code crashSim} and no C compiler works
   */
  Cluster(
      Backend backend,
      int size,
      int spares,
      boolean processClock,
      boolean crashSim,
      Path dir,
      Map<String, String> options,
      PrintStream log) {
    if (size < 1 || size + spares > 9 || spares < 0) {
      throw new IllegalArgumentException(
          "cluster size must be 1..9 with its spares, was " + size + " + " + spares);
    }
    if (backend != Backend.EMBEDDED && backend != Backend.ETCD && size != 1) {
      throw new IllegalArgumentException(backend + " runs one node, not " + size);
    }
    if (backend != Backend.EMBEDDED && spares != 0) {
      throw new IllegalArgumentException(
          "membership changes need the EMBEDDED backend, not " + backend);
    }
    this.size = size;
    if (backend == Backend.ETCD && (processClock || crashSim)) {
      throw new IllegalArgumentException("process-clock and crash need the harness's own nodes");
    }
    this.launcher =
        new NodeLauncher(
            backend,
            dir,
            options,
            log,
            processClock ? NodeLauncher.faketimeLibrary() : null,
            crashSim ? CrashSim.compile(dir) : null);
    this.backend = backend;
    this.dir = dir;
    this.options = Map.copyOf(options);
    this.log = log;
    try {
      Files.createDirectories(dir);
      for (int i = 1; i <= size + spares; i++) {
        List<Integer> ports = LoopbackPorts.reserve("127.0.0.1", 3);
        Node n = new Node("n" + i, i, ports.get(0), ports.get(1), ports.get(2), dir);
        n.member = i <= size;
        nodes.add(n);
      }
      String self = InetAddress.getLocalHost().getHostName();
      for (Node n : nodes) {
        StringBuilder hosts = new StringBuilder("127.0.0.1 localhost\n127.0.0.1 " + self + "\n");
        for (Node m : nodes) {
          hosts
              .append(m == n ? "127.0.0.1" : proxyAddress(n, m))
              .append(' ')
              .append(m.id)
              .append('\n');
        }
        Files.writeString(n.hostsFile, hosts.toString(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the cluster in " + dir, e);
    }
    for (Node a : nodes) {
      for (Node b : nodes) {
        if (a != b) {
          links.put(a.id + ">" + b.id, new Link(a.id, b.id));
        }
      }
    }
    try {
      for (Node a : backend == Backend.EMBEDDED ? nodes : List.<Node>of()) {
        for (Node b : nodes) {
          if (a != b) {
            proxies.add(
                new FaultProxy(
                    new InetSocketAddress(InetAddress.getByName(proxyAddress(a, b)), b.raftPort),
                    new InetSocketAddress(InetAddress.getByName("127.0.0.1"), b.raftPort),
                    link(a.id, b.id),
                    link(b.id, a.id)));
          }
        }
      }
    } catch (UnknownHostException e) {
      close();
      throw new IllegalStateException("loopback address not usable", e);
    }
  }

  private static String proxyAddress(Node from, Node to) {
    return "127.0." + from.index + "." + to.index;
  }

  /** Every node, spares included. */
  List<Node> nodes() {
    return List.copyOf(nodes);
  }

  /** The nodes the harness believes are in the Raft configuration (running or not). */
  List<Node> members() {
    return nodes.stream().filter(n -> n.member).toList();
  }

  /** The nodes outside the configuration: spares, and removed nodes once stopped and wiped. */
  List<Node> spares() {
    return nodes.stream().filter(n -> !n.member && !n.running()).toList();
  }

  /** The size the cluster started with. */
  int size() {
    return size;
  }

  private static String endpoints(List<Node> ns) {
    return ns.stream()
        .map(n -> n.id + "=" + n.id + ":" + n.raftPort)
        .collect(Collectors.joining(","));
  }

  Node node(String id) {
    return nodes.stream()
        .filter(n -> n.id.equals(id))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no node " + id));
  }

  Link link(String from, String to) {
    Link l = links.get(from + ">" + to);
    if (l == null) {
      throw new IllegalArgumentException("no link " + from + "->" + to);
    }
    return l;
  }

  /** Launches every node and waits until each serves and the cluster accepts a write. */
  void start(long timeoutMs) {
    start(timeoutMs, false);
  }

  /**
   * Launches every node and waits until each serves and the cluster accepts a write.
   *
   * @param fastRestarts (EMBEDDED) also write the class data sharing archive that later node starts
   *     use (see {@link NodeLauncher#startWarmUp}), beside the first start, and wait for it (at
   *     most 60 s more; without it nodes start as the first ones did): for runs that restart or add
   *     nodes
   */
  void start(long timeoutMs, boolean fastRestarts) {
    if (backend == Backend.ETCD) {
      for (Node n : nodes) {
        launcher.launchEtcd(n, nodes);
      }
    }
    if (fastRestarts && backend == Backend.EMBEDDED) {
      launcher.startWarmUp();
    }
    List<Node> initial = members();
    for (Node n : initial) {
      launcher.launch(n, endpoints(initial), false);
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    for (Node n : initial) {
      awaitServing(n, deadline);
    }
    awaitWritable(nodes.get(0), deadline);
    launcher.awaitWarmUp();
  }

  private void awaitServing(Node n, long deadline) {
    try (NodeClient c = new NodeClient(n.controlPort)) {
      while (true) {
        if ("OK".equals(c.call("PING", 1000))) {
          n.lastStartMs = (System.nanoTime() - n.launchedNs) / 1_000_000;
          return;
        }
        if (!n.process.isAlive()) {
          throw new IllegalStateException(
              "node " + n.id + " exited with " + n.process.exitValue() + "; log:\n" + tail(n));
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "node " + n.id + " did not serve in time; log:\n" + tail(n));
        }
        pause(20);
      }
    }
  }

  private void awaitWritable(Node n, long deadline) {
    try (NodeClient c = new NodeClient(n.controlPort)) {
      while (true) {
        String r = c.call("PUT jepsen/ready 1", 5000);
        if ("OK".equals(r)) {
          return;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "cluster did not accept a write in time (last answer "
                  + r
                  + "); log of "
                  + n.id
                  + ":\n"
                  + tail(n));
        }
        pause(50);
      }
    }
  }

  /** The last lines of a node's log, for error messages. */
  String tail(Node n) {
    try {
      List<String> lines = Files.readAllLines(n.logFile, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** The running, unpaused member that says it leads, or {@code null} if none answers so. */
  Node leader() {
    for (Node n : members()) {
      if (!n.running() || n.paused) {
        continue;
      }
      try (NodeClient c = new NodeClient(n.controlPort)) {
        if ("OK leader".equals(c.call("ROLE", 1000))) {
          return n;
        }
      }
    }
    return null;
  }

  /** kill -9. */
  void kill(Node n) {
    Process p = n.target();
    if (p != null) {
      if (n.paused) {
        signal(n, "CONT");
      }
      p.destroyForcibly();
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * A simulated power loss: kill -9, then every write the node had not synced is undone (see {@link
   * CrashSim}). Restart it with {@link #restart}.
   *
   * @return what was undone, for the log
   */
  String crash(Node n) {
    if (!launcher.crashSim()) {
      throw new IllegalStateException("the cluster was not started with crash simulation");
    }
    kill(n);
    return CrashSim.rollBack(n.dataDir, n.undoDir);
  }

  /** Starts a killed node again on its data directory and waits until it serves. */
  void restart(Node n, long timeoutMs) {
    if (n.running()) {
      return;
    }
    if (backend == Backend.ETCD) {
      launcher.launchEtcd(n, nodes);
      return; // its NodeMain client is still up and reconnects by itself
    }
    // A member restarts on its data: Ratis recovers its configuration from its own log.
    launcher.launch(n, endpoints(members()), false);
    awaitServing(n, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs));
  }

  /**
   * Starts several killed nodes at once (all JVMs launched before waiting for any), so a cluster
   * that lost power as a whole is back in one start-up time, not one per node; each node gets
   * {@code timeoutMs} times the number started.
   *
   * @return the nodes that did not serve in time, each with the reason
   */
  Map<Node, RuntimeException> restartAll(List<Node> ns, long timeoutMs) {
    List<Node> launched = new ArrayList<>();
    for (Node n : ns) {
      if (!n.running()) {
        launcher.launch(n, endpoints(members()), false);
        launched.add(n);
      }
    }
    // JVMs starting together share the CPU: as long in all as one after the other would get.
    long deadline =
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs * Math.max(1, launched.size()));
    Map<Node, RuntimeException> failed = new LinkedHashMap<>();
    for (Node n : launched) {
      try {
        awaitServing(n, deadline);
      } catch (RuntimeException e) {
        failed.put(n, e);
      }
    }
    return failed;
  }

  /**
   * Asks the cluster (through {@code via}'s control port) to make {@code newMembers} its whole
   * configuration, retrying until it answers OK or {@code timeoutMs} passes. Setting the same
   * configuration again is harmless, so a call whose answer was lost is simply repeated.
   *
   * @return {@code null} once the cluster confirmed the configuration; otherwise the last answer
   *     (the member asked and what it said), for the report
   */
  String setMembers(List<Node> vias, List<Node> newMembers, long timeoutMs) {
    String request = "MEMBERS " + endpoints(newMembers);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    int attempt = 0;
    String last = "no running member to ask";
    while (true) {
      List<Node> live = vias.stream().filter(n -> n.running() && !n.paused).toList();
      if (!live.isEmpty()) {
        Node via = live.get(attempt++ % live.size());
        try (NodeClient c = new NodeClient(via.controlPort)) {
          int left = (int) Math.max(1000, (deadline - System.nanoTime()) / 1_000_000);
          String answer = c.call(request, Math.min(left, 30_000));
          if ("OK".equals(answer)) {
            return null;
          }
          last = via + ": " + answer;
        }
      }
      if (System.nanoTime() > deadline) {
        return last;
      }
      pause(200);
    }
  }

  /**
   * Starts spare node {@code n} as a new, empty member joining the cluster (Ratis starts it with no
   * peers; it takes part once the configuration includes it), and waits until it serves its control
   * port. Its data directory must not exist: a node id comes back only with no memory of its past.
   */
  void launchJoiner(Node n, long timeoutMs) {
    if (n.member || n.running() || Files.exists(n.dataDir)) {
      throw new IllegalStateException(
          "node " + n.id + " is not a clean spare (member=" + n.member + ")");
    }
    List<Node> future = new ArrayList<>(members());
    future.add(n);
    launcher.launch(n, endpoints(future), true);
    awaitServing(n, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs));
  }

  /** Kills a node that is out of the configuration and deletes its data: it becomes a spare. */
  void retire(Node n) {
    if (n.member) {
      throw new IllegalStateException("node " + n.id + " is still a member: its data must stay");
    }
    kill(n);
    try (java.util.stream.Stream<Path> files = Files.walk(n.dataDir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (java.nio.file.NoSuchFileException e) {
      // Never started.
    } catch (IOException e) {
      throw new UncheckedIOException("cannot wipe " + n.dataDir, e);
    }
  }

  /** SIGSTOP: the process freezes, its sockets stay open. */
  void pause(Node n) {
    if (n.running() && !n.paused) {
      signal(n, "STOP");
      n.paused = true;
    }
  }

  /** SIGCONT. */
  void resume(Node n) {
    if (n.paused) {
      signal(n, "CONT");
      n.paused = false;
    }
  }

  private static void signal(Node n, String sig) {
    try {
      Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(n.target().pid())).start();
      if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
        throw new IllegalStateException("kill -" + sig + " " + n.id + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot signal node " + n.id, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted signalling " + n.id, e);
    }
  }

  /** Cuts traffic from {@code from} to {@code to} (one way). */
  void cut(Node from, Node to) {
    link(from.id, to.id).cut();
  }

  /** Makes the nodes of each group talk only among themselves (every node must be in one group). */
  void partition(List<List<Node>> groups) {
    for (List<Node> g : groups) {
      for (Node a : g) {
        for (Node b : nodes) {
          if (a != b && !g.contains(b)) {
            cut(a, b);
          }
        }
      }
    }
  }

  /** Heals every link and removes every delay. */
  void healAll() {
    links.values().forEach(Link::heal);
  }

  /** Whether the node processes run under libfaketime ({@link #shiftProcessClock} works). */
  boolean hasProcessClock() {
    return launcher.processClock();
  }

  /**
   * Moves node {@code n}'s whole process clock forward by {@code seconds} (within about a second,
   * when libfaketime next reads the file). Never backwards: the offset only grows.
   */
  synchronized void shiftProcessClock(Node n, double seconds) {
    if (!launcher.processClock()) {
      throw new IllegalStateException("the cluster was not started with a process clock");
    }
    if (!(seconds >= 0)) {
      throw new IllegalArgumentException("a process clock only moves forward, not " + seconds);
    }
    n.processClockOffsetS += seconds;
    NodeLauncher.writeFaketime(n);
  }

  /** Sets a node's store clock: a forward jump and a new rate. */
  boolean clock(Node n, long jumpMs, double rate) {
    try (NodeClient c = new NodeClient(n.controlPort)) {
      return "OK".equals(c.call("CLOCK " + jumpMs + " " + rate, 2000));
    }
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms); // polling interval while waiting for a process to come up
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    for (Node n : nodes) {
      if (n.paused && n.running()) {
        try {
          signal(n, "CONT");
        } catch (RuntimeException e) {
          // Killed anyway below.
        }
      }
      for (Process p : new Process[] {n.process, n.server}) {
        if (p != null) {
          p.destroyForcibly();
        }
      }
    }
    for (Node n : nodes) {
      for (Process p : new Process[] {n.process, n.server}) {
        if (p != null) {
          try {
            p.waitFor(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }
    }
    launcher.close();
    proxies.forEach(FaultProxy::close);
  }
}
