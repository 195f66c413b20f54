package io.libkv.storage.lmdb;

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
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash durability of {@link Backend#LMDB} with its default (durable, {@code lmdb.sync=true})
 * setting: a child JVM writes keys in a loop and prints each key once {@code put} has returned; it
 * is killed with SIGKILL at a random point; every key it acknowledged must then be in the reopened
 * data directory, byte for byte, and the store must accept writes with higher indices. Seeded (the
 * seed is printed; {@code -Dlibkv.crash.seed=N} replays the kill points).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class LmdbCrashDurabilityIT {
  private static final int ITERATIONS = 3;

  @TempDir Path dir;

  /** The child: {@code main(dataDir, prefix)} writes prefix/0, prefix/1, ... until killed. */
  static final class Writer {
    private Writer() {}

    public static void main(String[] args) {
      Config config = Config.builder().dataDir(Path.of(args[0])).build();
      try (Store s = LibKV.newStore(Backend.LMDB, List.of(), config)) {
        System.out.println("READY");
        System.out.flush();
        for (int i = 0; ; i++) {
          String key = args[1] + "/" + i;
          s.put(key, value(key), null);
          System.out.println("ACK " + key);
          System.out.flush();
        }
      }
    }
  }

  static byte[] value(String key) {
    // Big enough that a torn write would show (several pages per batch), small enough to be quick.
    return (key + "=").repeat(64).getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void everyAcknowledgedPutSurvivesKillDashNine() throws Exception {
    long seed = Long.getLong("libkv.crash.seed", System.nanoTime());
    System.out.println("LmdbCrashDurabilityIT seed " + seed);
    Random random = new Random(seed);
    Map<String, Boolean> acked = new LinkedHashMap<>();
    long highest = 0;
    for (int iter = 0; iter < ITERATIONS; iter++) {
      long killAfterMs = random.nextInt(600);
      List<String> got = runAndKill("it" + iter, killAfterMs);
      assertTrue(
          !got.isEmpty(), "seed " + seed + ": the child acknowledged nothing in " + killAfterMs);
      for (String k : got) {
        acked.put(k, true);
      }
      // The files open cleanly, and nothing acknowledged (in this or an earlier run) is missing.
      try (Store s = open()) {
        for (String k : acked.keySet()) {
          KVPair p = s.get(k);
          assertNotNull(p, "seed " + seed + ": lost " + k);
          assertArrayEquals(value(k), p.value(), "seed " + seed + ": damaged " + k);
          highest = Math.max(highest, p.lastIndex());
        }
        s.put("after/" + iter, value("after"), null);
        long after = s.get("after/" + iter).lastIndex();
        assertTrue(
            after > highest,
            "seed " + seed + ": index went back after a crash: " + after + " <= " + highest);
        highest = after;
      }
    }
    System.out.println(
        "LmdbCrashDurabilityIT: " + acked.size() + " acknowledged puts survived " + ITERATIONS);
  }

  private Store open() {
    return LibKV.newStore(Backend.LMDB, List.of(), Config.builder().dataDir(dir).build());
  }

  /**
   * Starts the writer, kills it with SIGKILL {@code killAfterMs} after its first acknowledged put.
   */
  private List<String> runAndKill(String prefix, long killAfterMs) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOpens());
    cmd.add("-Xmx128m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Writer.class.getName());
    cmd.add(dir.toString());
    cmd.add(prefix);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    List<String> acked = new ArrayList<>();
    List<String> other = new ArrayList<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  synchronized (acked) {
                    if (line.startsWith("ACK ")) {
                      acked.add(line.substring(4));
                    } else {
                      other.add(line);
                    }
                    acked.notifyAll();
                  }
                }
              } catch (IOException e) {
                // The pipe breaks when the child dies; what was read is what was acknowledged.
              }
            },
            "crash-it-reader");
    reader.start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      synchronized (acked) {
        // Arm the kill only once the first put was acknowledged: a slow machine (a cold JVM, a
        // loaded CPU) must not turn "nothing acknowledged yet" into a failure.
        while (acked.isEmpty() && p.isAlive() && System.nanoTime() < deadline) {
          acked.wait(100);
        }
        if (acked.isEmpty()) {
          fail("writer acknowledged nothing within 30 s: " + other);
        }
      }
      // The kill point is a wall-clock moment in the write loop; waiting for it is the test.
      long killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(killAfterMs);
      synchronized (acked) {
        while (System.nanoTime() < killAt && p.isAlive()) {
          acked.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(killAt - System.nanoTime())));
        }
      }
      assertTrue(p.isAlive(), "writer died by itself: " + other);
    } finally {
      p.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no close()
      p.waitFor(30, TimeUnit.SECONDS);
      reader.join(TimeUnit.SECONDS.toMillis(30));
    }
    assertEquals(137, p.exitValue(), "killed by SIGKILL; output: " + other);
    synchronized (acked) {
      return new ArrayList<>(acked);
    }
  }

  /** The --add-opens/--add-exports flags this JVM was started with (lmdbjava needs them). */
  static List<String> jvmOpens() {
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
