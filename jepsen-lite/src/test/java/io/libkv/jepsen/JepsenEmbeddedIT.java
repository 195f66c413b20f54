package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Backend;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * The short profile run by {@code mvn verify}: a 3-node embedded cluster of separate processes
 * under partitions, kill -9, SIGSTOP, store-clock faults and a membership change must show zero
 * violations and zero lost writes; and the same cluster with {@code embedded.reads=stale} under a
 * partition must be caught by the checker (the end-to-end proof that the checker catches a real
 * bug). Seeds: {@code -Djepsen.seed=N} replays a run.
 */
@Timeout(value = 480, unit = TimeUnit.SECONDS)
class JepsenEmbeddedIT {
  private static final PrintStream OUT = new PrintStream(System.out, true);

  static JepsenRun.Options options(
      long seed, Duration time, List<String> nemeses, Path dir, String reads, int nodes, int keys) {
    return new JepsenRun.Options(
        Backend.EMBEDDED,
        nodes,
        time,
        seed,
        nemeses,
        dir,
        Map.of("embedded.reads", reads, "embedded.electionTimeoutMs", "1000"),
        keys,
        2,
        true,
        true,
        true,
        2500,
        4000,
        4000);
  }

  @Test
  void everyNemesisNoViolationNoLostWrite(TestInfo info) throws Exception {
    Path dir = RunDirs.fresh(info);
    // Seed 22 orders the faults partition, pause, clock, member, kill: the membership change (a
    // member removed, left running outside the cluster, then wiped, and a spare added) comes
    // before kill -9, whose restart may take long on a loaded machine.
    long seed = Long.getLong("jepsen.seed", 22L);
    JepsenRun.Report r =
        new JepsenRun(
                options(
                    seed,
                    Duration.ofSeconds(45),
                    List.of("partition", "kill", "pause", "clock", "member"),
                    dir,
                    "linearizable",
                    3,
                    6),
                OUT)
            .run();
    assertTrue(r.faults().size() >= 2, r.summary()); // at least one fault injected and healed
    if (seed == 22L) {
      String faults = String.join("\n", r.faults());
      assertTrue(faults.contains("member remove") && faults.contains("member add"), faults);
    }
    assertTrue(r.registerOps() > 100, r.summary());
    assertEquals(Verdict.VALID, r.register(), r.summary());
    assertEquals(0, r.lostWrites(), r.summary());
    assertEquals(0, r.staleLockWrites(), r.summary());
    assertEquals(0, r.watchMissed() + r.watchOutOfOrder(), r.summary());
    assertTrue(r.passed(), r.summary());
  }

  @Test
  void staleReadsUnderPartitionAreCaught(TestInfo info) throws Exception {
    Path dir = RunDirs.fresh(info);
    long seed = Long.getLong("jepsen.staleSeed", 11L);
    JepsenRun.Report r =
        new JepsenRun(
                // Few keys, so that every key is read on the isolated node after newer writes.
                options(seed, Duration.ofSeconds(14), List.of("isolate"), dir, "stale", 3, 3), OUT)
            .run();
    assertEquals(Verdict.INVALID, r.register(), r.summary());
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(r.reportDir())) {
      assertTrue(
          files.anyMatch(p -> p.toString().endsWith(".svg")),
          "a timeline of the failing history must be written to " + r.reportDir());
    }
  }
}
