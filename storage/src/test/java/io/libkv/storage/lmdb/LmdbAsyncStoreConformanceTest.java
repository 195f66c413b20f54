package io.libkv.storage.lmdb;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import io.libkv.store.conformance.AsyncStoreConformanceSuite;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;

/** The AsyncStore contract on the LMDB backend: every store of a test opens the same directory. */
class LmdbAsyncStoreConformanceTest extends AsyncStoreConformanceSuite {
  @TempDir static Path dir;

  @Override
  protected Store openStore() {
    return LibKV.newStore(Backend.LMDB, List.of(), Config.builder().dataDir(dir).build());
  }
}
