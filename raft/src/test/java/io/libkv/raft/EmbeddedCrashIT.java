package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash durability of an embedded member: a one-member cluster runs in a child JVM ({@link
 * EmbeddedNode#main}); this JVM writes to it through a client-only store from several threads and
 * records every acknowledged put; the child is killed with SIGKILL at a random point, restarted on
 * the same data directory, and every acknowledged put must be there, byte for byte, with the member
 * accepting new writes at higher indices. Seeded ({@code -Dlibkv.crash.seed=N}).
 */
// Two JVM starts and a Raft election per iteration: ~20 s quiet, ~60 s on a loaded 2-core box.
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class EmbeddedCrashIT {
  private static final int ITERATIONS = 2;
  private static final int WRITERS = 3;

  @TempDir Path dir;

  private static byte[] value(String key) {
    return (key + "#").repeat(16).getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void acknowledgedWritesSurviveKillDashNineAndRestart() throws Exception {
    long seed = Long.getLong("libkv.crash.seed", System.nanoTime());
    System.out.println("EmbeddedCrashIT seed " + seed);
    Random random = new Random(seed);
    int port = freePort();
    String endpoint = "n1=127.0.0.1:" + port;
    Set<String> acked = ConcurrentHashMap.newKeySet();
    long highest = 0;
    for (int iter = 0; iter < ITERATIONS; iter++) {
      Child node = Child.start(dir, endpoint);
      try {
        long killAfterMs = 200 + random.nextInt(1200);
        writeUntilKilled(endpoint, "crash/" + iter, acked, node, killAfterMs);
      } finally {
        node.kill();
      }
      assertEquals(137, node.process.exitValue(), "killed by SIGKILL: " + node.tail());
      assertTrue(!acked.isEmpty(), "seed " + seed + ": nothing was acknowledged");

      Child again = Child.start(dir, endpoint);
      try (Store s = client(endpoint, Duration.ofSeconds(20))) {
        Map<String, KVPair> stored = new HashMap<>();
        for (KVPair p : s.list("crash")) {
          stored.put(p.key(), p);
        }
        for (String k : acked) {
          KVPair p = stored.get(k);
          assertNotNull(p, "seed " + seed + ": acknowledged " + k + " lost after kill -9");
          assertArrayEquals(value(k), p.value(), "seed " + seed + ": damaged " + k);
          highest = Math.max(highest, p.lastIndex());
        }
        s.put("after/" + iter, value("after"), null);
        long after = s.get("after/" + iter).lastIndex();
        assertTrue(after > highest, "seed " + seed + ": index went back: " + after);
        highest = after;
      } finally {
        again.kill();
      }
    }
    System.out.println("EmbeddedCrashIT: " + acked.size() + " acknowledged writes survived");
  }

  private static Store client(String endpoint, Duration timeout) {
    return LibKV.newStore(
        Backend.EMBEDDED, List.of(endpoint), Config.builder().connectionTimeout(timeout).build());
  }

  /** Writes from {@link #WRITERS} threads; kills the node {@code killAfterMs} after the 1st ack. */
  private static void writeUntilKilled(
      String endpoint, String prefix, Set<String> acked, Child node, long killAfterMs)
      throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    CountDownLatch firstAck = new CountDownLatch(1);
    List<Thread> writers = new ArrayList<>();
    try (Store warmUp = client(endpoint, Duration.ofSeconds(60))) {
      warmUp.put(prefix + "/ready", value("ready"), null); // waits out the first election
    }
    // A short timeout: once the node is killed, blocked writers give up quickly.
    try (Store s = client(endpoint, Duration.ofSeconds(3))) {
      for (int w = 0; w < WRITERS; w++) {
        String mine = prefix + "/w" + w + "/";
        Thread t =
            new Thread(
                () -> {
                  for (int i = 0; !stop.get(); i++) {
                    String k = mine + i;
                    try {
                      s.put(k, value(k), null);
                    } catch (StoreException e) {
                      return; // the node is gone: this write's outcome is unknown, not acked
                    }
                    acked.add(k);
                    firstAck.countDown();
                  }
                },
                "crash-writer-" + w);
        writers.add(t);
        t.start();
      }
      if (!firstAck.await(60, TimeUnit.SECONDS)) {
        fail("no write was acknowledged; node output: " + node.tail());
      }
      // The kill point is a moment in the write stream; waiting for it is the test itself.
      long killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(killAfterMs);
      while (System.nanoTime() < killAt && node.process.isAlive()) {
        node.process.waitFor(killAt - System.nanoTime(), TimeUnit.NANOSECONDS);
      }
      assertTrue(node.process.isAlive(), "node died by itself: " + node.tail());
      node.kill();
      stop.set(true);
      for (Thread t : writers) {
        t.join(TimeUnit.SECONDS.toMillis(60));
        assertTrue(!t.isAlive(), "writer still blocked 60 s after the node died");
      }
    }
  }

  private static int freePort() {
    return LoopbackPorts.reserve("127.0.0.1");
  }

  /** An {@link EmbeddedNode} process. */
  private static final class Child {
    final Process process;
    private final Deque<String> lines = new ArrayDeque<>();
    private final CountDownLatch running = new CountDownLatch(1);

    private Child(Process process) {
      this.process = process;
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = r.readLine()) != null) {
                    if (line.startsWith("libkv node ")) {
                      running.countDown();
                    }
                    synchronized (lines) {
                      lines.addLast(line);
                      if (lines.size() > 40) {
                        lines.removeFirst();
                      }
                    }
                  }
                } catch (IOException e) {
                  // The pipe closes when the process dies.
                }
              },
              "crash-node-output");
      reader.setDaemon(true);
      reader.start();
    }

    static Child start(Path dataDir, String endpoint) throws Exception {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(jvmOpens());
      cmd.add("-Xmx256m");
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(EmbeddedNode.class.getName());
      cmd.addAll(
          List.of(
              "--id",
              "n1",
              "--peers",
              endpoint,
              "--data-dir",
              dataDir.toString(),
              "--option",
              "embedded.electionTimeoutMs=300"));
      Child c = new Child(new ProcessBuilder(cmd).redirectErrorStream(true).start());
      if (!c.running.await(60, TimeUnit.SECONDS)) {
        c.kill();
        fail("node did not start: " + c.tail());
      }
      return c;
    }

    void kill() throws InterruptedException {
      process.destroyForcibly(); // SIGKILL on Linux: no shutdown hook runs
      process.waitFor(30, TimeUnit.SECONDS);
    }

    String tail() {
      synchronized (lines) {
        return String.join("\n", lines);
      }
    }
  }

  /** The --add-opens/--add-exports flags this JVM was started with (lmdbjava needs them). */
  private static List<String> jvmOpens() {
    List<String> out = new ArrayList<>();
    List<String> in = ManagementFactory.getRuntimeMXBean().getInputArguments();
    for (int i = 0; i < in.size(); i++) {
      String a = in.get(i);
      if (a.startsWith("--add-opens") || a.startsWith("--add-exports")) {
        out.add(a);
        if (!a.contains("=") && i + 1 < in.size()) {
          out.add(in.get(++i));
        }
      }
    }
    return out;
  }
}
