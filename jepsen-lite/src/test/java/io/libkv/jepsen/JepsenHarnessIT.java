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
 * The harness itself (node processes, control protocol, kill -9/restart, SIGSTOP/SIGCONT, clock
 * commands, workloads, final checks) on a one-node LMDB "cluster", which is linearizable and
 * durable by construction: a run must pass.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JepsenHarnessIT {
  @Test
  void singleLmdbNodeSurvivesKillPauseAndClock(TestInfo info) throws Exception {
    Path dir = RunDirs.fresh(info);
    long seed = Long.getLong("jepsen.seed", 20261125L);
    JepsenRun.Options o =
        new JepsenRun.Options(
            Backend.LMDB,
            1,
            Duration.ofSeconds(9),
            seed,
            List.of("kill", "pause", "clock"),
            dir,
            Map.of(),
            4,
            3,
            true,
            true,
            true,
            1500,
            2500,
            3000);
    JepsenRun.Report r = new JepsenRun(o, new PrintStream(System.out, true)).run();
    assertTrue(r.registerOps() > 50, r.summary());
    assertTrue(r.faults().size() >= 3, r.summary());
    assertEquals(Verdict.VALID, r.register(), r.summary());
    assertEquals(0, r.lostWrites(), r.summary());
    assertTrue(r.setAcked() > 0, r.summary());
    assertTrue(r.watchAcked() > 0, r.summary());
    assertTrue(r.passed(), r.summary());
  }
}
