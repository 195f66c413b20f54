package io.libkv.jepsen;

import io.libkv.store.Backend;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One jepsen-lite run: starts a {@link Cluster}, runs the workloads from many client threads while
 * the {@link Nemesis} injects faults, heals, reads the final state, and checks:
 *
 * <ul>
 *   <li><b>register</b>: read/write/CAS on independent keys, checked by {@link
 *       LinearizabilityChecker} (values unique per key, so a CAS by index is a CAS by value);
 *   <li><b>set</b>: every acknowledged add must be in the final list (lost writes);
 *   <li><b>lock</b>: each holder writes to a {@link FencedResource}; no write may be accepted with
 *       a token another holder had;
 *   <li><b>watch</b>: one watcher per node must see every acknowledged write of a key, in strictly
 *       increasing index order.
 * </ul>
 *
 * <p>Everything random comes from the seed. One thread per client; the caller's thread drives the
 * nemesis.
 */
final class JepsenRun {
  /** What to run. */
  record Options(
      Backend backend,
      int nodes,
      Duration time,
      long seed,
      List<String> nemeses,
      Path dir,
      Map<String, String> storeOptions,
      int registerKeys,
      int clientsPerNode,
      boolean set,
      boolean lock,
      boolean watch,
      long minFaultMs,
      long maxFaultMs,
      int opTimeoutMs) {}

  /** What a run found. Passed only if every workload did. */
  record Report(
      long seed,
      Verdict register,
      long registerOps,
      long registerInfo,
      List<String> registerProblems,
      long setAcked,
      long lostWrites,
      long lockAccepted,
      long lockRejected,
      long staleLockWrites,
      long watchAcked,
      long watchMissed,
      long watchOutOfOrder,
      List<String> faults,
      Map<String, Integer> healedKinds,
      List<String> nodesDown,
      Path reportDir) {
    boolean passed() {
      return nodesDown.isEmpty()
          && register == Verdict.VALID
          && lostWrites == 0
          && staleLockWrites == 0
          && watchMissed == 0
          && watchOutOfOrder == 0;
    }

    String summary() {
      return String.format(
          Locale.ROOT,
          "seed %d%n"
              + "register: %s (%d ops, %d unknown outcome)%s%n"
              + "set: %d acknowledged adds, %d lost%n"
              + "lock: %d fenced writes accepted, %d stale refused, %d stale accepted%n"
              + "watch: %d acknowledged writes, %d missed by a watcher, %d out of order%n"
              + "faults: %d, healed per kind %s%n"
              + "%s"
              + "acknowledged writes lost: %d%n"
              + "verdict: %s (report in %s)",
          seed,
          register,
          registerOps,
          registerInfo,
          registerProblems.isEmpty() ? "" : " " + registerProblems,
          setAcked,
          lostWrites,
          lockAccepted,
          lockRejected,
          staleLockWrites,
          watchAcked,
          watchMissed,
          watchOutOfOrder,
          faults.size(),
          new java.util.TreeMap<>(healedKinds),
          nodesDown.isEmpty()
              ? ""
              : "members that did not start again: " + nodesDown + System.lineSeparator(),
          lostWrites + watchMissed,
          passed() ? "PASS" : "FAIL",
          reportDir);
    }
  }

  private final Options o;
  private final PrintStream out;
  private final List<Op> history = Collections.synchronizedList(new ArrayList<>());
  private final AtomicLong opIds = new AtomicLong();
  private final Set<String> setAcked = ConcurrentHashMap.newKeySet();
  private final List<String> watchAcked = Collections.synchronizedList(new ArrayList<>());
  private final FencedResource fenced = new FencedResource();
  private final AtomicLong holders = new AtomicLong();
  private volatile boolean stop;

  JepsenRun(Options options, PrintStream out) {
    this.o = options;
    this.out = out;
  }

  Report run() throws InterruptedException {
    long t0 = System.nanoTime();
    out.printf(
        Locale.ROOT,
        "jepsen-lite: %d %s nodes, %ss, nemeses %s, seed %d, dir %s%n",
        o.nodes(),
        o.backend(),
        o.time().toSeconds(),
        o.nemeses(),
        o.seed(),
        o.dir());
    // The membership nemesis needs one spare node to add (a removed node becomes the next spare).
    int spares = o.nemeses().contains("member") ? 1 : 0;
    try (Cluster cluster =
        new Cluster(
            o.backend(),
            o.nodes(),
            spares,
            o.nemeses().contains("process-clock"),
            o.nemeses().contains("crash"),
            o.dir(),
            o.storeOptions(),
            out)) {
      // Restarts (kill, crash) and added members start from a class data sharing archive.
      cluster.start(
          180_000,
          o.nemeses().contains("kill")
              || o.nemeses().contains("crash")
              || o.nemeses().contains("member"));
      out.printf(Locale.ROOT, "cluster up in %.1fs%n", (System.nanoTime() - t0) / 1e9);
      Random seeds = new Random(o.seed());
      long nemesisSeed = seeds.nextLong();
      List<Thread> threads = new ArrayList<>();
      Map<String, Watcher> watchers = new java.util.LinkedHashMap<>();
      int client = 0;
      for (Cluster.Node n : cluster.nodes()) {
        for (int c = 0; c < o.clientsPerNode(); c++) {
          int id = client++;
          long s = seeds.nextLong();
          threads.add(thread("register-" + id, () -> registerClient(id, n, s)));
        }
        if (o.set()) {
          int id = client++;
          threads.add(thread("set-" + id, () -> setClient(id, n)));
        }
        if (o.lock()) {
          long s = seeds.nextLong();
          threads.add(thread("lock-" + n.id, () -> lockClient(n, s)));
        }
        if (o.watch() && n.member) {
          watchers.put(n.id, new Watcher(n, startWatch(n, 0)));
        }
      }
      if (o.watch()) {
        threads.add(thread("watch-writer", () -> watchWriter(cluster)));
        threads.add(thread("watch-poller", () -> pollWatchers(watchers)));
      }
      long startNs = System.nanoTime();
      threads.forEach(Thread::start);
      Thread progress = thread("progress", () -> progress(startNs));
      progress.start();
      Nemesis nemesis =
          new Nemesis(
              cluster, nemesisSeed, o.nemeses(), o.minFaultMs(), o.maxFaultMs(), out, startNs);
      nemesis.run(startNs + o.time().toNanos());
      stop = true;
      progress.interrupt();
      for (Thread t : threads) {
        t.join(o.opTimeoutMs() * 3L + 10_000);
      }
      out.printf(
          Locale.ROOT,
          "workloads stopped after %.1fs, %d register ops%n",
          (System.nanoTime() - startNs) / 1e9,
          history.size());

      // Final reads on a healed cluster: every register key from every node, the set, the watches.
      finalRegisterReads(cluster);
      long lost = checkSet(cluster);
      long[] watch = o.watch() ? checkWatches(watchers) : new long[2];

      List<Op> ops;
      synchronized (history) {
        ops = List.copyOf(history); // a client stuck past its join timeout must not race this
      }
      writeHistory(ops, o.dir().resolve("history.txt"));
      LinearizabilityChecker.Result r = LinearizabilityChecker.defaults().check(ops);
      Path reportDir = o.dir().resolve("checker");
      r.writeReport(reportDir);
      List<String> problems = new ArrayList<>();
      for (LinearizabilityChecker.KeyResult k : r.problems()) {
        problems.add(k.key() + ":" + k.verdict() + (k.why().isEmpty() ? "" : "(" + k.why() + ")"));
      }
      long info = ops.stream().filter(op -> op.outcome() == Op.Outcome.INFO).count();
      Report report =
          new Report(
              o.seed(),
              r.verdict(),
              ops.size(),
              info,
              problems,
              setAcked.size(),
              lost,
              fenced.accepted(),
              fenced.rejected(),
              fenced.staleAccepted(),
              watchAcked.size(),
              watch[0],
              watch[1],
              nemesis.faults(),
              nemesis.healedKinds(),
              nemesis.unrecovered(),
              reportDir);
      out.println(report.summary());
      return report;
    } finally {
      stop = true;
    }
  }

  private void progress(long startNs) {
    while (!stop) {
      try {
        Thread.sleep(5000);
      } catch (InterruptedException e) {
        return;
      }
      long ok;
      long fail;
      long info;
      synchronized (history) {
        ok = history.stream().filter(op -> op.outcome() == Op.Outcome.OK).count();
        fail = history.stream().filter(op -> op.outcome() == Op.Outcome.FAIL).count();
        info = history.stream().filter(op -> op.outcome() == Op.Outcome.INFO).count();
      }
      out.printf(
          Locale.ROOT,
          "%7.2fs ops: register %d ok, %d failed, %d unknown; set %d acked; lock %d fenced writes;"
              + " watch %d acked%n",
          (System.nanoTime() - startNs) / 1e9,
          ok,
          fail,
          info,
          setAcked.size(),
          fenced.accepted(),
          watchAcked.size());
    }
  }

  /** Saves the register history, one {@link Op#toLine()} a line, so it can be checked again. */
  static void writeHistory(List<Op> ops, Path file) {
    StringBuilder sb = new StringBuilder();
    for (Op op : ops) {
      sb.append(op.toLine()).append('\n');
    }
    try {
      Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the history to " + file, e);
    }
  }

  /** A few milliseconds between operations, so clients leave the small test machine some CPU. */
  private static void think(Random random) {
    try {
      Thread.sleep(2 + random.nextInt(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Waits a little and answers true if {@code node} is not running (killed, or a spare not yet
   * added): its clients do not fill the history with calls that certainly did nothing.
   */
  private static boolean idle(Cluster.Node node) {
    if (node.running()) {
      return false;
    }
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return true;
  }

  private static Thread thread(String name, Runnable r) {
    Thread t = new Thread(r, "jepsen-" + name);
    t.setDaemon(true);
    return t;
  }

  // ---- register ----

  private void registerClient(int clientId, Cluster.Node node, long seed) {
    Random random = new Random(seed);
    int process = clientId;
    int counter = 0;
    Map<String, Seen> lastRead = new HashMap<>();
    try (NodeClient c = new NodeClient(node.controlPort)) {
      while (!stop) {
        if (idle(node)) {
          continue;
        }
        String key = "reg/" + random.nextInt(o.registerKeys());
        int roll = random.nextInt(100);
        Seen seen = lastRead.get(key);
        Op op;
        if (roll < 50 || (roll >= 75 && seen == null)) {
          Seen read = read(c, process, key);
          op = read == null ? null : read.op();
          if (read != null) {
            lastRead.put(key, read);
          }
        } else if (roll < 75) {
          String v = "c" + clientId + "-" + counter++;
          long inv = System.nanoTime();
          String a = c.call("PUT " + key + " " + v, o.opTimeoutMs());
          op = record(process, key, Op.Kind.WRITE, v, null, writeOutcome(a, "OK"), inv);
        } else {
          String v = "c" + clientId + "-" + counter++;
          long inv = System.nanoTime();
          String a = c.call("CAS " + key + " " + v + " " + seen.index(), o.opTimeoutMs());
          op = record(process, key, Op.Kind.CAS, v, seen.op().value(), writeOutcome(a, "OK "), inv);
          lastRead.remove(key);
        }
        if (op != null && op.outcome() == Op.Outcome.INFO) {
          process += 1000; // a process with an operation in doubt never issues another
        }
        if (op != null && op.outcome() == Op.Outcome.FAIL && !node.running()) {
          idle(node); // killed meanwhile: no point calling it in a tight loop
        }
        think(random);
      }
    }
  }

  /** A register read that told something: the recorded read, and the index it saw ("0": none). */
  private record Seen(Op op, String index) {}

  /** Reads a register; returns null if the read tells nothing. */
  private Seen read(NodeClient c, int process, String key) {
    long inv = System.nanoTime();
    String a = c.call("GET " + key, o.opTimeoutMs());
    if (a == null || a.equals(NodeClient.UNSENT) || a.startsWith("ERR")) {
      return null; // a read that failed or timed out tells nothing
    }
    if (a.equals("NOTFOUND")) {
      return new Seen(record(process, key, Op.Kind.READ, null, null, Op.Outcome.OK, inv), "0");
    }
    String[] f = a.split(" ");
    return new Seen(record(process, key, Op.Kind.READ, f[1], null, Op.Outcome.OK, inv), f[2]);
  }

  private static Op.Outcome writeOutcome(String answer, String okPrefix) {
    if (answer == null) {
      return Op.Outcome.INFO;
    }
    if (answer.equals(okPrefix.trim()) || answer.startsWith(okPrefix)) {
      return Op.Outcome.OK;
    }
    if (answer.equals(NodeClient.UNSENT) || answer.startsWith("CONFLICT")) {
      return Op.Outcome.FAIL;
    }
    return Op.Outcome.INFO; // an error after sending: it may still have been applied
  }

  private Op record(
      int process,
      String key,
      Op.Kind kind,
      String value,
      String expected,
      Op.Outcome outcome,
      long inv) {
    long done = System.nanoTime();
    Op op =
        new Op(
            opIds.incrementAndGet(),
            process,
            key,
            kind,
            value,
            expected,
            outcome,
            inv,
            outcome == Op.Outcome.INFO ? Long.MAX_VALUE : done);
    history.add(op);
    return op;
  }

  private void finalRegisterReads(Cluster cluster) {
    for (Cluster.Node n : cluster.members()) {
      try (NodeClient c = new NodeClient(n.controlPort)) {
        for (int k = 0; k < o.registerKeys(); k++) {
          read(c, 900_000 + n.index, "reg/" + k);
        }
      }
    }
  }

  // ---- set ----

  private void setClient(int clientId, Cluster.Node node) {
    int counter = 0;
    Random random = new Random(clientId);
    try (NodeClient c = new NodeClient(node.controlPort)) {
      while (!stop) {
        if (idle(node)) {
          continue;
        }
        String e = "e" + clientId + "-" + counter++;
        if ("OK".equals(c.call("PUT set/" + e + " 1", o.opTimeoutMs()))) {
          setAcked.add(e);
        }
        think(random);
      }
    }
  }

  private long checkSet(Cluster cluster) {
    if (!o.set()) {
      return 0;
    }
    String a = null;
    long deadline = System.nanoTime() + 60_000_000_000L;
    List<Cluster.Node> members = cluster.members();
    for (int i = 0; System.nanoTime() < deadline; i++) {
      try (NodeClient c = new NodeClient(members.get(i % members.size()).controlPort)) {
        a = c.call("LIST set", 10_000);
        if (a != null && a.startsWith("OK")) {
          break;
        }
      }
    }
    if (a == null || !a.startsWith("OK")) {
      out.println("set: final read failed (" + a + "): every acknowledged add counts as lost");
      return setAcked.size();
    }
    Set<String> present = new HashSet<>();
    for (String k : a.split(" ")) {
      if (k.startsWith("set/")) {
        present.add(k.substring(4));
      }
    }
    long lost = 0;
    for (String e : setAcked) {
      if (!present.contains(e)) {
        lost++;
        out.println("set: acknowledged add lost: " + e);
      }
    }
    return lost;
  }

  // ---- lock ----

  private void lockClient(Cluster.Node node, long seed) {
    Random random = new Random(seed);
    try (NodeClient c = new NodeClient(node.controlPort)) {
      while (!stop) {
        if (idle(node)) {
          continue;
        }
        String a = c.call("LOCK lock/fenced 3000 5000", o.opTimeoutMs() + 5000);
        if (a == null || !a.startsWith("OK ")) {
          continue;
        }
        String[] f = a.split(" ");
        long token = Long.parseLong(f[1]);
        long holder = holders.incrementAndGet();
        fenced.write(token, holder);
        try {
          Thread.sleep(random.nextInt(300)); // hold the lock a while, as work would
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        fenced.write(token, holder);
        c.call("UNLOCK " + f[2], o.opTimeoutMs());
      }
    }
  }

  // ---- watch ----

  /**
   * The harness's side of one node's watcher, like a careful client's: everything seen so far, kept
   * across restarts of the node (after one, the watch is opened again after the last index seen).
   */
  private static final class Watcher {
    final Cluster.Node node;
    final List<String> entries = new ArrayList<>(); // idx:value, RESYNC:floor, ERROR:type
    long id;
    int consumed;
    long last;

    Watcher(Cluster.Node node, long id) {
      this.node = node;
      this.id = id;
    }

    /** Takes the node's new log entries; re-opens the watch if the node restarted. */
    synchronized void poll() {
      try (NodeClient c = new NodeClient(node.controlPort)) {
        String a = c.call("WATCHLOG " + id, 10_000);
        if (a != null && a.startsWith("ERR NoSuchWatch")) {
          String w = c.call("WATCH watched " + last, 10_000);
          if (w != null && w.startsWith("OK ")) {
            id = Long.parseLong(w.substring(3).trim());
            consumed = 0;
            entries.add(
                "REOPENED:" + last); // the node restarted: resumed after the last index seen
          }
          return;
        }
        if (a == null || !a.startsWith("OK")) {
          return; // down or paused: next time
        }
        String[] parts = a.split(" ");
        for (int i = 1 + consumed; i < parts.length; i++) {
          entries.add(parts[i]);
          int colon = parts[i].indexOf(':');
          if (colon > 0 && Character.isDigit(parts[i].charAt(0))) {
            last = Math.max(last, Long.parseLong(parts[i].substring(0, colon)));
          }
        }
        consumed = Math.max(consumed, parts.length - 1);
      }
    }

    synchronized String log() {
      return "OK" + (entries.isEmpty() ? "" : " " + String.join(" ", entries));
    }
  }

  private void pollWatchers(Map<String, Watcher> watchers) {
    while (!stop) {
      for (Watcher w : watchers.values()) {
        w.poll();
      }
      try {
        Thread.sleep(1000); // a watcher's log is cumulative: polling only keeps it across restarts
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private long startWatch(Cluster.Node n, long after) {
    try (NodeClient c = new NodeClient(n.controlPort)) {
      String a = c.call("WATCH watched " + after, 10_000);
      if (a == null || !a.startsWith("OK ")) {
        throw new IllegalStateException("cannot start a watch on " + n.id + ": " + a);
      }
      return Long.parseLong(a.substring(3).trim());
    }
  }

  private void watchWriter(Cluster cluster) {
    int counter = 0;
    List<Cluster.Node> nodes = cluster.nodes();
    NodeClient[] clients = new NodeClient[nodes.size()];
    for (int i = 0; i < clients.length; i++) {
      clients[i] = new NodeClient(nodes.get(i).controlPort);
    }
    try {
      while (!stop) {
        String v = "w" + counter;
        NodeClient c = clients[counter % clients.length];
        counter++;
        if ("OK".equals(c.call("PUT watched " + v, o.opTimeoutMs()))) {
          watchAcked.add(v);
        }
        try {
          Thread.sleep(50); // a steady trickle of changes
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    } finally {
      for (NodeClient c : clients) {
        c.close();
      }
    }
  }

  /**
   * Returns {missed, outOfOrder} summed over the watchers. A watcher must see every acknowledged
   * write, except those at or below a history floor its store reported ({@code RESYNC:floor}: the
   * store's bounded revision history no longer held them when the watch resumed, e.g. on a member
   * restarted late in a long run); a write's index is learnt from any watcher that saw it. Logs are
   * read again until every watcher is complete or 30 s pass.
   */
  private long[] checkWatches(Map<String, Watcher> watchers) {
    List<String> acked = List.copyOf(watchAcked);
    // Members added during the run started no watch (a removed node lost its own).
    List<Cluster.Node> watched =
        watchers.values().stream()
            .map(w -> w.node)
            .filter(n -> n.running() && n.member && !n.joined)
            .toList();
    Map<String, String> logs = new HashMap<>();
    Map<String, Long> valueIndex = new HashMap<>();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (true) {
      for (Watcher w : watchers.values()) {
        w.poll();
        String a = w.log();
        logs.put(w.node.id, a);
        for (String e : a.split(" ")) {
          int colon = e.indexOf(':');
          if (colon > 0 && Character.isDigit(e.charAt(0))) {
            valueIndex.putIfAbsent(e.substring(colon + 1), Long.parseLong(e.substring(0, colon)));
          }
        }
      }
      boolean complete = true;
      for (Cluster.Node n : watched) {
        complete &= unseen(logs.get(n.id), acked, valueIndex).isEmpty();
      }
      if (complete || System.nanoTime() > deadline) {
        break;
      }
      try {
        Thread.sleep(200); // the watchers are still catching up
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    long missed = 0;
    long disorder = 0;
    for (Cluster.Node n : watched) {
      String a = logs.get(n.id);
      long lastIndex = 0;
      long floor = 0;
      if (a != null) {
        for (String e : a.split(" ")) {
          int colon = e.indexOf(':');
          if (e.startsWith("RESYNC:")) {
            floor = Math.max(floor, Long.parseLong(e.substring(colon + 1)));
          } else if (colon > 0 && Character.isDigit(e.charAt(0))) {
            long idx = Long.parseLong(e.substring(0, colon));
            if (idx <= lastIndex) {
              disorder++;
            }
            lastIndex = Math.max(lastIndex, idx);
          }
        }
      }
      if (floor > 0) {
        long f = floor;
        long skipped =
            acked.stream().filter(v -> valueIndex.containsKey(v) && valueIndex.get(v) <= f).count();
        out.println(
            "watch: "
                + n.id
                + " resumed after its store's history floor "
                + floor
                + " ("
                + skipped
                + " earlier acknowledged writes not checked on it)");
      }
      List<String> missing = unseen(a, acked, valueIndex);
      for (String v : missing) {
        missed++;
        out.println("watch: " + n.id + " never saw acknowledged write " + v);
      }
      if (!missing.isEmpty() && a != null) {
        // What the watcher went through: its re-opens, resyncs and errors (the node's log has
        // each error's stack trace).
        List<String> events = new ArrayList<>();
        for (String e : a.split(" ")) {
          if (!e.isEmpty() && !Character.isDigit(e.charAt(0)) && !"OK".equals(e)) {
            events.add(e);
          }
        }
        out.println("watch: " + n.id + " watcher events " + events);
      }
    }
    return new long[] {missed, disorder};
  }

  /**
   * The acknowledged values a watch log lacks, leaving out those at or below its history floor (a
   * value's index known from any watcher); every value if there is no log.
   */
  static List<String> unseen(String log, List<String> acked, Map<String, Long> index) {
    if (log == null || !log.startsWith("OK")) {
      return acked;
    }
    Set<String> seen = new HashSet<>();
    long floor = 0;
    for (String e : log.split(" ")) {
      int colon = e.indexOf(':');
      if (e.startsWith("RESYNC:")) {
        floor = Math.max(floor, Long.parseLong(e.substring(colon + 1)));
      } else if (colon > 0 && Character.isDigit(e.charAt(0))) {
        seen.add(e.substring(colon + 1));
      }
    }
    List<String> missing = new ArrayList<>();
    for (String v : acked) {
      Long idx = index.get(v);
      if (!seen.contains(v) && (idx == null || idx > floor)) {
        missing.add(v);
      }
    }
    return missing;
  }
}
