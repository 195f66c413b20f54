package io.libkv.storage.engine;

import io.libkv.store.StoreException;
import org.lmdbjava.LmdbException;

/** Maps lmdbjava's exceptions to the project's, in one place. */
final class LmdbErrors {
  private LmdbErrors() {}

  /** Returns a {@link StoreException} for a failed LMDB call, naming what was being done. */
  static StoreException map(String what, java.nio.file.Path dir, LmdbException e) {
    return new StoreException(
        "LMDB failed to "
            + what
            + " in "
            + dir
            + ": "
            + e.getClass().getSimpleName()
            + " "
            + e.getMessage(),
        e);
  }
}
