package io.libkv.raft;

import io.libkv.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A member and a full disk at start. A member does not start with less than {@link
 * #MIN_USABLE_TO_START} usable: Ratis 3.3.0 writes its term and vote ({@code raft-meta}) through a
 * temporary file that it renames over the old one even when writing it failed, so an election on a
 * full disk leaves {@code raft-meta} empty (term and vote lost). And a start that fails on a full
 * disk is told from a damaged data directory: the advice differs (free space and start again,
 * versus clear the directory and rejoin), and clearing a directory only because its disk was full
 * would throw its data and its Raft vote away for nothing.
 */
final class FullDiskStart {
  /** The least usable space a member starts with (and under which a failure is put down to it). */
  static final long MIN_USABLE_TO_START = 8 << 20;

  private FullDiskStart() {}

  /** A start refused by this class (already says what to do). */
  static final class Refused extends StoreException {
    private static final long serialVersionUID = 1L;

    Refused(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Refuses to start member {@code id} when its disk is nearly full, or when its {@code raft-meta}
   * is empty (what Ratis leaves after failing to write it on a full disk).
   *
   * @param groupDirName the name of the group's directory under {@code raft/}
   * @throws StoreException saying what is wrong and what to do
   */
  static void beforeStart(String id, Path dataDir, String groupDirName) {
    long usable = -1;
    Path lowest = dataDir;
    // raft/ and kv/ may be mounts of their own.
    for (Path d : List.of(dataDir, dataDir.resolve("raft"), dataDir.resolve("kv"))) {
      long u = Files.isDirectory(d) ? usable(d) : -1;
      if (u >= 0 && (usable < 0 || u < usable)) {
        usable = u;
        lowest = d;
      }
    }
    if (usable >= 0 && usable < MIN_USABLE_TO_START) {
      throw new Refused(
          "EMBEDDED member "
              + id
              + " cannot start: the disk of its data directory "
              + dataDir
              + " is full ("
              + usable
              + " bytes usable in "
              + lowest
              + ", under the "
              + MIN_USABLE_TO_START
              + " a member needs to start). Nothing was changed: free disk space and start the"
              + " member again; do not clear its data directory",
          null);
    }
    Path meta = dataDir.resolve("raft").resolve(groupDirName).resolve("current/raft-meta");
    try {
      if (Files.isRegularFile(meta) && Files.size(meta) == 0) {
        throw new Refused(
            "EMBEDDED member "
                + id
                + " refuses to start: "
                + meta
                + " (its current term and vote) is empty, which is what Ratis leaves when it"
                + " cannot write that file because the disk is full: the member's term and vote are"
                + " lost, and it must not vote again as if it had none."
                + DataDirCheck.REMEDY,
            null);
      }
    } catch (IOException e) {
      // Unreadable: DataDirCheck reports it.
    }
  }

  /**
   * Returns the error for member {@code id} whose start failed with {@code failure}, if its disk is
   * full (a cause says "No space left on device", or the data directory's file system has almost no
   * usable space); {@code null} otherwise.
   */
  static StoreException check(String id, Path dataDir, Throwable failure) {
    long usable = usable(dataDir);
    boolean enospc = false;
    for (Throwable t = failure; t != null && !enospc; t = t.getCause()) {
      String m = String.valueOf(t.getMessage());
      enospc = m.contains("No space left on device") || m.contains("ENOSPC");
    }
    if (!enospc && (usable < 0 || usable >= MIN_USABLE_TO_START)) {
      return null;
    }
    return new StoreException(
        "EMBEDDED member "
            + id
            + " cannot start: the disk of its data directory "
            + dataDir
            + " is full ("
            + (usable < 0 ? "usable space unknown" : usable + " bytes usable")
            + "; "
            + failure
            + "). Nothing is lost: free disk space and start the member again; do not clear its"
            + " data directory",
        failure);
  }

  /** The usable bytes of the file system of {@code dir} (or its nearest existing parent), or -1. */
  private static long usable(Path dir) {
    for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.exists(p)) {
        try {
          return Files.getFileStore(p).getUsableSpace();
        } catch (IOException | RuntimeException e) {
          return -1;
        }
      }
    }
    return -1;
  }
}
