package io.libkv.bench.jmh;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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

/**
 * The command codec (the bytes of every Raft entry): encoding and decoding a batch of {@code batch}
 * puts of 256-byte values. Scores are batches per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Fork(1)
public class CodecBench {
  @Param({"1", "64"})
  public int batch;

  List<Command> commands;
  byte[] encoded;

  @Setup(Level.Trial)
  public void setUp() {
    commands = new ArrayList<>();
    for (int i = 0; i < batch; i++) {
      commands.add(
          new Command.Put(
              String.format(Locale.ROOT, "bench/k%07d", i), BenchDirs.value(256, i), 0, 0));
    }
    encoded = CommandCodec.encodeCommands(commands);
  }

  @Benchmark
  public byte[] encode() {
    return CommandCodec.encodeCommands(commands);
  }

  @Benchmark
  public List<Command> decode() {
    return CommandCodec.decodeCommands(encoded);
  }
}
