package io.libkv.bench.jmh;

import io.libkv.store.KVPair;
import io.libkv.store.Store;
import io.libkv.store.Watch;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Watch fan-out on the LMDB store ({@code lmdb.sync=false}): {@code watchers} watches of one key;
 * each operation is one put of that key followed by every watcher receiving its event. The score is
 * updates per second fully delivered; multiply by {@code watchers} for events per second. A watcher
 * that gets no event within 10 s fails the benchmark.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Fork(1)
public class WatchFanoutBench {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @Param({"1", "100", "10000"})
  public int watchers;

  Path dir;
  Store store;
  final List<Watch<KVPair>> watches = new ArrayList<>();
  byte[] value = BenchDirs.value(256, 1);

  @Setup(Level.Trial)
  public void setUp() throws InterruptedException {
    dir = BenchDirs.create("watch");
    store = BenchDirs.openLmdbNoSync(dir);
    store.put("hot", value, null);
    for (int i = 0; i < watchers; i++) {
      Watch<KVPair> w = store.watch("hot");
      watches.add(w);
      take(w); // the current pair
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Watch<KVPair> w : watches) {
      w.close();
    }
    store.close();
    BenchDirs.delete(dir);
  }

  @Benchmark
  public long putAndDeliver() throws InterruptedException {
    store.put("hot", value, null);
    long sum = 0;
    for (Watch<KVPair> w : watches) {
      sum += take(w).lastIndex();
    }
    return sum;
  }

  private static KVPair take(Watch<KVPair> w) throws InterruptedException {
    KVPair p = w.poll(WAIT);
    if (p == null) {
      throw new IllegalStateException("a watcher got no event within " + WAIT);
    }
    return p;
  }
}
