package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Backend;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * The process-clock nemesis reaches the JVM's own clock: a node process started under libfaketime
 * sees System.nanoTime (what Ratis' timers read) jump when the harness moves its clock, and never
 * go backwards. Skipped where libfaketime is not installed (Debian package {@code faketime}).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProcessClockIT {
  private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

  @Test
  void shiftMovesTheNodesNanoTimeForwardOnly(TestInfo info) throws Exception {
    try {
      NodeLauncher.faketimeLibrary();
    } catch (IllegalStateException e) {
      Assumptions.abort(e.getMessage());
    }
    Path dir = RunDirs.fresh(info);
    try (Cluster c = new Cluster(Backend.LMDB, 1, 0, true, false, dir, Map.of(), QUIET);
        NodeClient client = new NodeClient(c.nodes().get(0).controlPort)) {
      c.start(90_000);
      Cluster.Node n = c.nodes().get(0);
      long real0 = System.nanoTime();
      long node0 = nanoTime(client);
      c.shiftProcessClock(n, 30);
      long last = node0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      long gainNs = 0;
      while (gainNs < TimeUnit.SECONDS.toNanos(25) && System.nanoTime() < deadline) {
        long now = nanoTime(client);
        assertTrue(now >= last, "the node's nanoTime went back from " + last + " to " + now);
        last = now;
        gainNs = (now - node0) - (System.nanoTime() - real0);
        Thread.sleep(100); // polling the node's clock
      }
      assertTrue(
          gainNs >= TimeUnit.SECONDS.toNanos(25),
          "the node's clock should be ~30 s ahead of ours, was " + gainNs / 1e9 + " s");
    }
  }

  private static long nanoTime(NodeClient client) {
    String a = client.call("NANOTIME", 5000);
    assertTrue(a != null && a.startsWith("OK "), "NANOTIME answered " + a);
    return Long.parseLong(a.substring(3).trim());
  }
}
