package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
 * under every nemesis - partition, isolate, kill -9, crash (power loss), SIGSTOP, store clock,
 * process clock (libfaketime) and a membership change, each injected and healed at least once -
 * must show zero violations, zero lost writes, zero stale lock writes and no watch misses; and the
 * same cluster with {@code embedded.reads=stale} under a partition must be caught by the checker
 * (the end-to-end proof that the checker catches a real bug). Seeds: {@code -Djepsen.seed=N}
 * replays a run.
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

  /** Every nemesis kind, in the order {@link Nemesis#KINDS} lists them. */
  static final List<String> EVERY_NEMESIS =
      List.of("partition", "isolate", "kill", "crash", "pause", "clock", "process-clock", "member");

  @Test
  void everyNemesisNoViolationNoLostWrite(TestInfo info) throws Exception {
    assertEquals(Nemesis.KINDS, java.util.Set.copyOf(EVERY_NEMESIS));
    Path dir = RunDirs.fresh(info);
    requireFaultTools(dir);
    // The nemesis runs its first round - every kind once, order, targets, variants and durations
    // drawn from the seed - to its end however long it takes, so each kind is injected and
    // healed once even on a slow machine; the 60 s are a minimum.
    long seed = Long.getLong("jepsen.seed", 22L);
    JepsenRun.Report r =
        new JepsenRun(
                options(seed, Duration.ofSeconds(60), EVERY_NEMESIS, dir, "linearizable", 3, 6),
                OUT)
            .run();
    String faults = String.join("\n", r.faults());
    for (String kind : EVERY_NEMESIS) {
      assertTrue(
          r.healedKinds().getOrDefault(kind, 0) >= 1,
          "nemesis " + kind + " was not injected and healed; faults:\n" + faults);
    }
    assertTrue(faults.contains("member remove") && faults.contains("member add"), faults);
    assertTrue(r.registerOps() > 100, r.summary());
    assertEquals(Verdict.VALID, r.register(), r.summary());
    assertEquals(0, r.lostWrites(), r.summary());
    assertEquals(0, r.staleLockWrites(), r.summary());
    assertEquals(0, r.watchMissed() + r.watchOutOfOrder(), r.summary());
    assertTrue(r.passed(), r.summary());
  }

  /**
   * The crash nemesis needs a C compiler and process-clock needs libfaketime: without them the
   * short profile fails (it never skips a nemesis), saying what to install.
   */
  private static void requireFaultTools(Path dir) {
    List<String> missing = new java.util.ArrayList<>();
    try {
      NodeLauncher.faketimeLibrary();
    } catch (IllegalStateException e) {
      missing.add("process-clock: " + e.getMessage());
    }
    try {
      CrashSim.compile(dir.resolve("cc-probe"));
    } catch (IllegalStateException e) {
      missing.add("crash: " + e.getMessage());
    }
    if (!missing.isEmpty()) {
      fail(
          "the short profile runs every nemesis; install what is missing (Debian: apt-get install"
              + " gcc libc6-dev faketime, as .ci/run does):\n"
              + String.join("\n", missing));
    }
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
