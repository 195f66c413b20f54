package io.libkv.bench.jmh;

import io.libkv.store.HeldLock;
import io.libkv.store.Locker;
import io.libkv.store.Store;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * An uncontended lock acquire and release on the LMDB store ({@code lmdb.sync=false}): the cost of
 * the lease, the queue entry and the release, per cycle.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Fork(1)
public class LockBench {
  Path dir;
  Store store;
  Locker locker;

  @Setup(Level.Trial)
  public void setUp() {
    dir = BenchDirs.create("lock");
    store = BenchDirs.openLmdbNoSync(dir);
    locker = store.newLock("bench/lock", null);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    store.close();
    BenchDirs.delete(dir);
  }

  @Benchmark
  public long lockUnlock() throws InterruptedException {
    HeldLock held = locker.lock();
    long token = held.fencingToken();
    locker.unlock();
    return token;
  }
}
