package io.libkv.storage.engine;

import io.libkv.store.StoreException;
import org.lmdbjava.LmdbException;
import org.lmdbjava.LmdbNativeException;

/** Maps lmdbjava's exceptions to the project's, in one place. */
final class LmdbErrors {
  private static final int ENOSPC = 28;
  private static final int EIO = 5;

  private LmdbErrors() {}

  /** Returns a {@link StoreException} for a failed LMDB call, naming what was being done. */
  static StoreException map(String what, java.nio.file.Path dir, LmdbException e) {
    if (e instanceof LmdbNativeException n && n.getResultCode() == ENOSPC) {
      return new StoreException(
          "LMDB store " + dir + " is full: no space left on device (while trying to " + what + ")",
          e);
    }
    String space = "";
    if (e instanceof LmdbNativeException n && n.getResultCode() == EIO) {
      // LMDB reports a short write (what a full disk gives a commit) as EIO.
      space = "; " + usableSpace(dir) + " (a full disk shows as this error)";
    }
    return new StoreException(
        "LMDB failed to "
            + what
            + " in "
            + dir
            + ": "
            + e.getClass().getSimpleName()
            + " "
            + e.getMessage()
            + space,
        e);
  }

  private static String usableSpace(java.nio.file.Path dir) {
    try {
      return java.nio.file.Files.getFileStore(dir).getUsableSpace()
          + " bytes are usable on its file system now";
    } catch (java.io.IOException | RuntimeException x) {
      return "the usable space of its file system is unknown (" + x + ")";
    }
  }
}
