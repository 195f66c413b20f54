package io.libkv.bench.jmh;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.HeldLock;
import io.libkv.store.Locker;
import io.libkv.store.Store;
import java.nio.file.Path;
import java.util.List;
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
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--add-opens", "java.base/java.nio=ALL-UNNAMED",
      "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"
    })
public class LockBench {
  Path dir;
  Store store;
  Locker locker;

  @Setup(Level.Trial)
  public void setUp() {
    dir = BenchDirs.create("lock");
    store =
        LibKV.newStore(
            Backend.LMDB,
            List.of(),
            Config.builder().dataDir(dir).option("lmdb.sync", "false").build());
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
