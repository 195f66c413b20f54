package io.libkv.raft;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Deleting the scratch and data directories a member replaces: the one rule for all of them. */
final class FileTrees {
  private FileTrees() {}

  /**
   * Deletes {@code path} and, if it is a directory, everything under it; nothing if it does not
   * exist.
   *
   * @throws UncheckedIOException if something could not be deleted (what was deleted stays so)
   */
  static void delete(Path path) {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> s = Files.walk(path)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + path, e);
    }
  }

  /** As {@link #delete}, ignoring failures: for leftovers that only cost disk space. */
  static void deleteQuietly(Path path) {
    try {
      delete(path);
    } catch (UncheckedIOException e) {
      // The caller's next pass tries again.
    }
  }
}
