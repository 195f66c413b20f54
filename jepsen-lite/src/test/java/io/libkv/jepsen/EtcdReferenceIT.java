package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Backend;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * The reference run: the same workloads against a real 3-node etcd (kill -9 and SIGSTOP of etcd
 * members), which must pass like the embedded store. In the slow profile ({@code -Pslow}) because
 * it adds a minute to the build; needs {@code etcd} on the PATH.
 */
@Tag("slow")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class EtcdReferenceIT {
  @Test
  void etcdUnderKillAndPause(TestInfo info) throws Exception {
    Path dir = RunDirs.fresh(info);
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/etcd"))
            || Files.isExecutable(Path.of("/usr/local/bin/etcd")),
        "etcd is not installed");
    long seed = Long.getLong("jepsen.seed", 3L);
    JepsenRun.Report r =
        new JepsenRun(
                new JepsenRun.Options(
                    Backend.ETCD,
                    3,
                    Duration.ofSeconds(Long.getLong("jepsen.seconds", 30)),
                    seed,
                    List.of("kill", "pause"),
                    dir,
                    Map.of(),
                    6,
                    2,
                    true,
                    true,
                    true,
                    2500,
                    4000,
                    4000),
                new PrintStream(System.out, true))
            .run();
    assertTrue(r.registerOps() > 100, r.summary());
    assertEquals(Verdict.VALID, r.register(), r.summary());
    assertTrue(r.passed(), r.summary());
  }
}
