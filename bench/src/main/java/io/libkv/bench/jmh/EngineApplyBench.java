package io.libkv.bench.jmh;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandResult;
import io.libkv.storage.engine.EngineOptions;
import io.libkv.storage.engine.KvEngine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The state machine's write path: {@link KvEngine#apply} of a batch of 64 puts (256-byte values,
 * random keys of 100,000) in one LMDB write transaction without fsync, as the embedded backend
 * applies committed Raft entries (its durability is the Raft log). Scores are commands applied per
 * second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Fork(1)
public class EngineApplyBench {
  static final int BATCH = 64;
  static final int KEYS = 100_000;

  @Param({"false"})
  public boolean sync;

  Path dir;
  KvEngine engine;
  long applied;
  final SplittableRandom rnd = new SplittableRandom(3);
  final byte[] value = BenchDirs.value(256, 5);

  @Setup(Level.Trial)
  public void setUp() {
    dir = BenchDirs.create("engine");
    engine =
        KvEngine.open(
            dir, EngineOptions.builder().sync(sync).initialMapSizeBytes(1L << 30).build());
    applied = engine.appliedIndex();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    engine.close();
    BenchDirs.delete(dir);
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public List<CommandResult> applyBatch() {
    List<Command> batch = new ArrayList<>(BATCH);
    for (int i = 0; i < BATCH; i++) {
      batch.add(
          new Command.Put(
              String.format(Locale.ROOT, "bench/k%07d", rnd.nextInt(KEYS)), value, 0, 0));
    }
    long first = engine.lastRevision() + 1;
    return engine.apply(++applied, first, batch);
  }
}
