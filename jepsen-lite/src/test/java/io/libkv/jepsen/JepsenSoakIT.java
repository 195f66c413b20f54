package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The long profile: {@code mvn -B -pl jepsen-lite verify -Pslow [-Djepsen.seed=N]
 * [-Djepsen.seconds=600] [-Djepsen.nodes=5]}. Every nemesis (crash needs cc, process-clock
 * libfaketime: without them the run fails saying so), zero violations, zero lost writes.
 */
@Tag("slow")
@Timeout(value = 3, unit = TimeUnit.HOURS)
class JepsenSoakIT {
  @Test
  void soak() throws Exception {
    long seed = Long.getLong("jepsen.seed", System.nanoTime());
    Path dir = Files.createTempDirectory("libkv-jepsen-soak-");
    JepsenRun.Report r =
        new JepsenRun(
                JepsenEmbeddedIT.options(
                    seed,
                    Duration.ofSeconds(Long.getLong("jepsen.seconds", 300)),
                    JepsenEmbeddedIT.EVERY_NEMESIS,
                    dir,
                    "linearizable",
                    Integer.getInteger("jepsen.nodes", 5),
                    8),
                new PrintStream(System.out, true))
            .run();
    for (String kind : JepsenEmbeddedIT.EVERY_NEMESIS) {
      assertTrue(r.healedKinds().getOrDefault(kind, 0) >= 1, kind + " never healed: " + r.faults());
    }
    assertTrue(r.passed(), r.summary());
  }
}
