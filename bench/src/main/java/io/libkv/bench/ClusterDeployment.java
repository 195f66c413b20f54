package io.libkv.bench;

import io.libkv.bench.jmh.BenchDirs;
import io.libkv.raft.EmbeddedCluster;
import io.libkv.raft.EmbeddedNode;
import io.libkv.store.Config;
import io.libkv.store.Store;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * An embedded cluster run in this JVM through {@link EmbeddedCluster}, so the scale run can stop,
 * restart and add members and read their applied index: the client threads call the members' own
 * stores, as in {@code --embedded-mode in-process}.
 */
final class ClusterDeployment implements Deployment {
  /** The production default, not the 300 ms EmbeddedCluster picks for tests. */
  private static final String ELECTION_TIMEOUT_MS = "1000";

  private static final Duration CATCH_UP_TIMEOUT = Duration.ofMinutes(10);
  private static final long POLL_NS = 2_000_000;

  private final Path dir;
  private final EmbeddedCluster cluster;

  private ClusterDeployment(Path dir, EmbeddedCluster cluster) {
    this.dir = dir;
    this.cluster = cluster;
  }

  static ClusterDeployment start(Path baseDir, int members) {
    Path dir = EtcdDeployment.tempDir(baseDir, "embedded");
    try {
      EmbeddedCluster c =
          EmbeddedCluster.builder()
              .nodes(members)
              .baseDir(dir)
              .config(
                  Config.builder()
                      .option("embedded.electionTimeoutMs", ELECTION_TIMEOUT_MS)
                      .build())
              .start();
      c.awaitLeader(Duration.ofSeconds(60));
      return new ClusterDeployment(dir, c);
    } catch (RuntimeException e) {
      BenchDirs.deleteOrWarn(dir);
      throw e;
    }
  }

  @Override
  public String name() {
    return "embedded";
  }

  @Override
  public String description() {
    return "Backend.EMBEDDED, "
        + cluster.runningIds().size()
        + " node(s) inside the harness's JVM (io.libkv.raft.EmbeddedCluster, election timeout "
        + ELECTION_TIMEOUT_MS
        + " ms, other options default), client threads spread over the members' own stores, data"
        + " in "
        + dir
        + "; default (linearizable) reads";
  }

  @Override
  public List<Target> openTargets(int connections) {
    List<Store> stores = new ArrayList<>();
    for (String id : cluster.runningIds()) {
      stores.add(cluster.openStore(id));
    }
    return List.of(new StoreTarget("embedded", stores));
  }

  @Override
  public Path dataDir() {
    return dir;
  }

  /** How long a restarted follower took to serve a linearizable read again. */
  record Restart(String member, double startMs, double readyMs) {}

  /**
   * Stops a follower, starts it again on its data directory and times it until a linearizable read
   * through it returns {@code key}'s value. The caller's stores on that member are closed by the
   * stop.
   */
  Restart restartFollower(String key) {
    EmbeddedNode leader = cluster.awaitLeader(Duration.ofSeconds(60));
    String id =
        cluster.runningIds().stream()
            .filter(i -> !i.equals(leader.id()))
            .findFirst()
            .orElseThrow(() -> new BenchException("no follower to restart in " + cluster));
    cluster.stop(id);
    long t0 = System.nanoTime();
    EmbeddedNode n = cluster.restart(id);
    long t1 = System.nanoTime();
    try (Store s = n.openStore()) {
      s.get(key);
    }
    long t2 = System.nanoTime();
    return new Restart(id, (t1 - t0) / 1e6, (t2 - t0) / 1e6);
  }

  /**
   * How long a new, empty member took to catch up.
   *
   * @param member its id
   * @param joinMs until the membership change including it committed
   * @param readyMs until it had applied what the leader had applied when it joined and served a
   *     linearizable read
   * @param logStartIndex the first index of its Raft log after catching up ({@code 0} when it
   *     replayed the whole log, above {@code 0} when it installed the leader's snapshot), or {@code
   *     -1} if it could not be read
   * @param snapshotBytes the size of the snapshot files in its directory after catching up
   */
  record CatchUp(
      String member, double joinMs, double readyMs, long logStartIndex, long snapshotBytes) {
    String method() {
      return logStartIndex > 0
          ? "snapshot install (log starts at index " + logStartIndex + ")"
          : logStartIndex == 0 ? "log replay from index 0" : "unknown";
    }
  }

  /**
   * Adds an empty member, times its catch-up (until it has applied what the leader had applied when
   * it joined and serves a linearizable read of {@code key}), then removes it and deletes its data.
   */
  CatchUp catchUpNewMember(String key) {
    EmbeddedNode leader = cluster.awaitLeader(Duration.ofSeconds(60));
    long target = leader.appliedIndex();
    long t0 = System.nanoTime();
    EmbeddedNode n = cluster.addNode();
    long t1 = System.nanoTime();
    try {
      long deadline = t0 + CATCH_UP_TIMEOUT.toNanos();
      while (n.appliedIndex() < target) {
        if (System.nanoTime() - deadline > 0) {
          throw new BenchException(
              "new member "
                  + n.id()
                  + " applied "
                  + n.appliedIndex()
                  + " of "
                  + target
                  + " after "
                  + CATCH_UP_TIMEOUT);
        }
        LockSupport.parkNanos(POLL_NS); // polling the applied index, finely: it is the figure
      }
      try (Store s = n.openStore()) {
        s.get(key);
      }
      long t2 = System.nanoTime();
      return new CatchUp(
          n.id(),
          (t1 - t0) / 1e6,
          (t2 - t0) / 1e6,
          logStartIndex(n.dataDir()),
          snapshotBytes(n.dataDir()));
    } finally {
      Path d = n.dataDir();
      cluster.removeNode(n.id());
      BenchDirs.deleteOrWarn(d);
    }
  }

  /**
   * The lowest start index of the Ratis log segments ({@code log_<start>-<end>}, {@code
   * log_inprogress_<start>}) under {@code dir}, or -1.
   */
  static long logStartIndex(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("log_"))
          .mapToLong(
              n -> {
                String rest =
                    n.startsWith("log_inprogress_")
                        ? n.substring("log_inprogress_".length())
                        : n.substring(4, n.indexOf('-') > 0 ? n.indexOf('-') : n.length());
                try {
                  return Long.parseLong(rest);
                } catch (NumberFormatException e) {
                  return Long.MAX_VALUE;
                }
              })
          .filter(i -> i != Long.MAX_VALUE)
          .min()
          .orElse(-1);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static long snapshotBytes(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(
              p ->
                  p.getFileName().toString().toLowerCase(Locale.ROOT).startsWith("snapshot.")
                      && Files.isRegularFile(p))
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  @Override
  public void close() {
    try {
      cluster.close();
    } finally {
      BenchDirs.deleteOrWarn(dir);
    }
  }
}
