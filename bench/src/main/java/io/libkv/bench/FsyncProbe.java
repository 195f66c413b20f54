package io.libkv.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.HdrHistogram.Histogram;

/**
 * Measures this machine's durable-write floor: appending 4 KiB to a file in the data directory and
 * forcing it to disk ({@link FileChannel#force(boolean) force(false)}, an fdatasync), the cost
 * every durable write of every backend pays at least once.
 */
final class FsyncProbe {
  static final int BLOCK_BYTES = 4096;

  /**
   * The probe's result, in microseconds.
   *
   * @param samples how many write+force pairs were timed
   */
  record Fsync(int samples, double p50Us, double p99Us, double meanUs, double maxUs, String dir) {}

  private FsyncProbe() {}

  static Fsync measure(Path dir, int samples) {
    Path file = null;
    try {
      Files.createDirectories(dir);
      file = Files.createTempFile(dir, "fsync-probe", ".bin");
      Histogram h = new Histogram(WorkloadRunner.MAX_LATENCY_NS, 3);
      ByteBuffer block = ByteBuffer.allocateDirect(BLOCK_BYTES);
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
        int warmup = Math.max(5, samples / 10);
        for (int i = 0; i < warmup + samples; i++) {
          block.clear();
          block.putLong(0, i);
          long t0 = System.nanoTime();
          while (block.hasRemaining()) {
            ch.write(block);
          }
          ch.force(false);
          long t = System.nanoTime() - t0;
          if (i >= warmup) {
            h.recordValue(Math.min(t, WorkloadRunner.MAX_LATENCY_NS));
          }
        }
      }
      return new Fsync(
          samples,
          h.getValueAtPercentile(50) / 1000.0,
          h.getValueAtPercentile(99) / 1000.0,
          h.getMean() / 1000.0,
          h.getMaxValue() / 1000.0,
          dir.toAbsolutePath().toString());
    } catch (IOException e) {
      throw new UncheckedIOException("fsync probe failed in " + dir, e);
    } finally {
      if (file != null) {
        try {
          Files.deleteIfExists(file);
        } catch (IOException e) {
          // a leftover probe file in a temp dir is harmless
        }
      }
    }
  }
}
