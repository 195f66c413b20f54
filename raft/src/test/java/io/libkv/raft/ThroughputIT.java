package io.libkv.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.libkv.store.Config;
import io.libkv.store.Store;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Measures put throughput of a 3-member in-process cluster with many concurrent writers (group
 * commit at work), per transport. Prints the numbers; run with {@code mvn -Pslow verify
 * -Dit.test=ThroughputIT}.
 */
@Tag("slow")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ThroughputIT {
  @ParameterizedTest(name = "{0}, {1} writers")
  @CsvSource({"grpc, 64", "netty, 64", "grpc, 8"})
  void puts(String transport, int writers, @org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    Config config = Config.builder().option(RaftSettings.TRANSPORT, transport).build();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(3).baseDir(dir).config(config).start()) {
      String leader = cluster.awaitLeader().id();
      String follower =
          cluster.runningIds().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      try (Store s = cluster.openStore(follower)) {
        run(s, writers, 2_000); // warm-up
        long n = 10_000;
        long start = System.nanoTime();
        run(s, writers, n);
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf(
            "THROUGHPUT transport=%s writers=%d: %d puts in %.2f s = %.0f puts/s%n",
            transport, writers, n, secs, n / secs);
        assertEquals(writers, s.list("tp").size() > 0 ? writers : 0);
      }
    }
  }

  private static void run(Store s, int writers, long total) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    AtomicLong left = new AtomicLong(total);
    List<Future<?>> fs = new ArrayList<>();
    byte[] value = new byte[100];
    for (int w = 0; w < writers; w++) {
      int id = w;
      fs.add(
          pool.submit(
              () -> {
                while (left.decrementAndGet() >= 0) {
                  s.put("tp/" + id, value, null);
                }
                return null;
              }));
    }
    for (Future<?> f : fs) {
      f.get();
    }
    pool.shutdown();
  }

  static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }
}
