package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The long profile: {@code mvn -B -pl jepsen-lite verify -Pslow [-Djepsen.seed=N]
 * [-Djepsen.seconds=600] [-Djepsen.nodes=5]}. Every nemesis (process-clock where libfaketime is
 * installed; crash needs cc), zero violations, zero lost writes.
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
                    nemeses(),
                    dir,
                    "linearizable",
                    Integer.getInteger("jepsen.nodes", 5),
                    8),
                new PrintStream(System.out, true))
            .run();
    assertTrue(r.passed(), r.summary());
  }

  /** Every nemesis; the process clock only where libfaketime is installed (said on stdout). */
  private static List<String> nemeses() {
    List<String> n = new java.util.ArrayList<>(List.of("partition", "kill", "pause", "clock"));
    n.add("member");
    n.add("crash");
    try {
      Cluster.faketimeLibrary();
      n.add("process-clock");
    } catch (IllegalStateException e) {
      System.out.println("soak without process-clock: " + e.getMessage());
    }
    return n;
  }
}
