package io.libkv.raft;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * fsync for files the Raft log comes to rely on. A snapshot replaces the log entries it covers
 * (Ratis purges them once it knows the snapshot), so the snapshot file, its checksum file and the
 * directory entries naming them must be on disk before Ratis is told about it: a power loss must
 * not leave a torn snapshot and no log to rebuild it from.
 */
final class Durable {
  private Durable() {}

  /** Flushes a file's data and metadata to disk. */
  static void syncFile(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /**
   * Flushes a directory, so that files created, renamed or deleted in it stay so after a power
   * loss. Does nothing where directories cannot be opened for reading (not on Linux).
   */
  static void syncDir(Path dir) throws IOException {
    FileChannel ch;
    try {
      ch = FileChannel.open(dir, StandardOpenOption.READ);
    } catch (IOException | UnsupportedOperationException e) {
      if (System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
        throw e instanceof IOException io ? io : new IOException(e);
      }
      return;
    }
    try (ch) {
      ch.force(true);
    }
  }
}
