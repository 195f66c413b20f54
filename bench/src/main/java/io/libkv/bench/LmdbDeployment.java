package io.libkv.bench;

import io.libkv.LibKV;
import io.libkv.bench.jmh.BenchDirs;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import java.nio.file.Path;
import java.util.List;

/** The LMDB file store in this JVM, on a fresh temporary directory (durable on return). */
final class LmdbDeployment implements Deployment {
  private final Path dir;

  private LmdbDeployment(Path dir) {
    this.dir = dir;
  }

  static LmdbDeployment start(Path baseDir) {
    return new LmdbDeployment(EtcdDeployment.tempDir(baseDir, "lmdb"));
  }

  @Override
  public String name() {
    return "lmdb";
  }

  @Override
  public String description() {
    return "Backend.LMDB in the harness's own JVM (no network), default durability, data in " + dir;
  }

  @Override
  public List<Target> openTargets(int connections) {
    // One LMDB environment per directory per process: every client thread shares one store.
    return List.of(
        new StoreTarget(
            "lmdb",
            List.of(
                LibKV.newStore(Backend.LMDB, List.of(), Config.builder().dataDir(dir).build()))));
  }

  @Override
  public Path dataDir() {
    return dir;
  }

  @Override
  public void close() {
    BenchDirs.deleteOrWarn(dir);
  }
}
