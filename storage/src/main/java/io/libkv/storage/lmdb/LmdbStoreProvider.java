package io.libkv.storage.lmdb;

import io.libkv.spi.JvmAccess;
import io.libkv.spi.StoreProvider;
import io.libkv.storage.engine.EngineOptions;
import io.libkv.storage.engine.EngineStore;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Opens {@link Backend#LMDB} stores: a local file store in {@link Config#dataDir()} (the role
 * BoltDB had in libkv). Registered for {@link java.util.ServiceLoader}.
 *
 * <p>Every store opened on one data directory in this JVM shares one LMDB environment, apply
 * thread, watch fan-out and lease reaper, so several stores see each other's writes, watches and
 * locks. A write returns once it is committed and flushed to disk (one fsync per group-committed
 * batch), unless {@code lmdb.sync=false}.
 *
 * <p>Options ({@link Config.Builder#option}):
 *
 * <ul>
 *   <li>{@code lmdb.sync} ({@code true}/{@code false}, default {@code true}): {@code false} skips
 *       the fsync of each commit (LMDB's {@code MDB_NOSYNC}); much faster, but an operating system
 *       crash or power loss may lose the last writes (the file is never corrupted; a JVM crash
 *       loses nothing).
 *   <li>{@code lmdb.mapSize} (bytes, default 64 MiB): the initial map size; it grows by itself.
 *   <li>{@code lmdb.historySize} (changes, default 10000): how far back {@code watch(key,
 *       afterIndex)} can resume.
 *   <li>{@code lmdb.maxMapSize} (bytes, default 0 = no limit): the map never grows past this; then
 *       writes that add data fail with a {@link io.libkv.store.StoreException} saying the store is
 *       full (naming the limit), while reads and deletes keep working. A full disk gives the same
 *       kind of error ("no space left on device").
 * </ul>
 *
 * The options, and the {@link Config#clock()} used for TTLs, of the first store opened on a data
 * directory apply to all stores sharing it. Endpoints are refused: the LMDB backend has no server.
 *
 * <p>{@link Config#bucket()} (libkv's BoltDB bucket) selects an isolated key space: its own LMDB
 * environment in {@code dataDir/buckets/<bucket>}, with its own revision counter.
 *
 * <p>One process at a time: a data directory (or bucket) open in another JVM is refused with {@link
 * IllegalStateException} (a lock file, {@code libkv.lock}, guards it).
 */
public final class LmdbStoreProvider implements StoreProvider {
  /** Option name: whether commits are flushed to disk. */
  public static final String OPTION_SYNC = "lmdb.sync";

  /** Option name: the initial map size in bytes. */
  public static final String OPTION_MAP_SIZE = "lmdb.mapSize";

  /** Option name: how many changes the revision history keeps. */
  public static final String OPTION_HISTORY_SIZE = "lmdb.historySize";

  /** Option name: the largest map size in bytes (0 = no limit). */
  public static final String OPTION_MAX_MAP_SIZE = "lmdb.maxMapSize";

  private static final Set<String> OPTIONS =
      Set.of(OPTION_SYNC, OPTION_MAP_SIZE, OPTION_HISTORY_SIZE, OPTION_MAX_MAP_SIZE);

  /** For {@link java.util.ServiceLoader}. */
  public LmdbStoreProvider() {}

  @Override
  public Backend backend() {
    return Backend.LMDB;
  }

  /**
   * Opens a store on {@code config.dataDir()}.
   *
   * @throws IllegalArgumentException if endpoints are given, the data directory is missing, or an
   *     {@code lmdb.*} option is unknown or invalid
   * @throws IllegalStateException if the JVM lacks the flags lmdbjava needs ({@link
   *     JvmAccess#REQUIRED_FLAGS})
   */
  @Override
  public Store open(List<String> endpoints, Config config) {
    Config c = Config.orDefaults(config);
    if (endpoints != null && !endpoints.isEmpty()) {
      throw new IllegalArgumentException(
          "The LMDB backend takes no endpoints (it has no server), got "
              + endpoints
              + "; set the data directory with Config.builder().dataDir(path)");
    }
    Path dir =
        c.dataDir()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "The LMDB backend needs a data directory: Config.builder().dataDir(path)"));
    if (c.bucket().isPresent()) {
      dir = dir.resolve("buckets").resolve(checkBucket(c.bucket().get()));
    }
    EngineOptions options = engineOptions(c.options());
    JvmAccess.requireNioAccess("libkv LMDB backend");
    LmdbNode node = LmdbNode.acquire(dir, options, c.clock());
    try {
      return new EngineStore(
          "lmdb:" + node.dir, node.applier, node.engine, node.hub, c, closed -> node.release());
    } catch (RuntimeException e) {
      node.release();
      throw e;
    }
  }

  private static String checkBucket(String bucket) {
    boolean bad =
        bucket.equals(".")
            || bucket.equals("..")
            || bucket.chars().anyMatch(ch -> ch == '/' || ch == '\\' || ch < 0x20 || ch == ':');
    if (bad) {
      throw new IllegalArgumentException(
          "LMDB bucket names must be one path segment without '/', '\\', ':' or control"
              + " characters, and not '.' or '..': \""
              + bucket
              + "\"");
    }
    return bucket;
  }

  static EngineOptions engineOptions(Map<String, String> options) {
    EngineOptions.Builder b = EngineOptions.builder();
    for (Map.Entry<String, String> o : options.entrySet()) {
      String name = o.getKey();
      String v = o.getValue().trim();
      if (!name.startsWith("lmdb.")) {
        continue;
      }
      if (!OPTIONS.contains(name)) {
        throw new IllegalArgumentException(
            "Unknown LMDB option " + name + " (known: " + OPTIONS + ")");
      }
      switch (name) {
        case OPTION_SYNC:
          if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException(name + " must be true or false, was \"" + v + "\"");
          }
          b.sync(Boolean.parseBoolean(v));
          break;
        case OPTION_MAP_SIZE:
          b.initialMapSizeBytes(parseLong(name, v));
          break;
        case OPTION_MAX_MAP_SIZE:
          b.maxMapSizeBytes(parseLong(name, v));
          break;
        default:
          long h = parseLong(name, v);
          if (h > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " is too large: " + v);
          }
          b.historySize((int) h);
          break;
      }
    }
    return b.build();
  }

  private static long parseLong(String name, String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a number, was \"" + v + "\"", e);
    }
  }
}
