package io.libkv.bench.jmh;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

/**
 * Temporary directories of the JMH state objects and of the harness's servers, and the values the
 * benchmarks write. Public because the harness package uses it too.
 */
public final class BenchDirs {
  private BenchDirs() {}

  /** Creates a temporary directory named after {@code prefix}. */
  public static Path create(String prefix) {
    try {
      return Files.createTempDirectory("libkv-jmh-" + prefix + "-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary directory", e);
    }
  }

  /**
   * Deletes {@code dir} recursively, if it exists.
   *
   * @throws UncheckedIOException if something cannot be deleted
   */
  public static void delete(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.delete(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
              Files.delete(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }

  /**
   * Opens Backend.LMDB on {@code dir} without fsync per commit ({@code lmdb.sync=false}) and a 1
   * GiB initial map, as the benchmarks that measure the store's own overhead use it.
   */
  public static Store openLmdbNoSync(Path dir) {
    return LibKV.newStore(
        Backend.LMDB,
        List.of(),
        Config.builder()
            .dataDir(dir)
            .option("lmdb.sync", "false")
            .option("lmdb.mapSize", Long.toString(1L << 30))
            .build());
  }

  /** Deletes {@code dir} recursively; on failure prints a warning and goes on. */
  public static void deleteOrWarn(Path dir) {
    try {
      delete(dir);
    } catch (UncheckedIOException e) {
      System.err.println("bench: could not delete " + dir + ": " + e.getCause());
    }
  }

  /** A deterministic pseudo-random value of {@code size} bytes. */
  public static byte[] value(int size, long seed) {
    byte[] v = new byte[size];
    long x = seed * 0x9E3779B97F4A7C15L + 1;
    for (int i = 0; i < size; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      v[i] = (byte) x;
    }
    return v;
  }
}
