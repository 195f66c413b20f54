package io.libkv.storage.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.StoreException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmdbjava.Dbi;
import org.lmdbjava.DirectBufferProxy;
import org.lmdbjava.Env;
import org.lmdbjava.Txn;

/**
 * The engine records its on-disk format version; an environment or a snapshot that records a newer
 * one is refused with both versions named, and left as it was.
 */
class EngineFormatVersionTest {
  @TempDir Path dir;

  private static UnsafeBuffer direct(byte[] b) {
    UnsafeBuffer u = new UnsafeBuffer(ByteBuffer.allocateDirect(b.length));
    u.putBytes(0, b);
    return u;
  }

  /** What a newer release would do: record a newer format in the environment's meta database. */
  private static void recordFormat(Path envDir, int version) {
    try (Env<DirectBuffer> env =
        Env.create(DirectBufferProxy.PROXY_DB).setMaxDbs(8).open(envDir.toFile())) {
      Dbi<DirectBuffer> meta = env.openDbi("meta");
      try (Txn<DirectBuffer> txn = env.txnWrite()) {
        meta.put(
            txn, direct(new byte[] {'v'}), direct(ByteBuffer.allocate(4).putInt(version).array()));
        txn.commit();
      }
    }
  }

  private static void put(KvEngine e, long index, String key, String value) {
    e.apply(index, index << 16, List.of(new Command.Put(key, value.getBytes(UTF_8), 0, 0)));
  }

  @Test
  void aNewerEnvironmentIsRefusedNamingBothVersionsAndLeftAsItWas() {
    Path kv = dir.resolve("kv");
    try (KvEngine e = KvEngine.open(kv, EngineOptions.defaults())) {
      put(e, 1, "k", "v");
    }
    recordFormat(kv, KvEngine.FORMAT_VERSION + 1);
    StoreException x =
        assertThrows(StoreException.class, () -> KvEngine.open(kv, EngineOptions.defaults()));
    assertTrue(
        x.getMessage().contains("format version " + (KvEngine.FORMAT_VERSION + 1)), x.getMessage());
    assertTrue(x.getMessage().contains("reads version " + KvEngine.FORMAT_VERSION), x.getMessage());
    // Back to the version this build reads: the data is intact and the engine opens.
    recordFormat(kv, KvEngine.FORMAT_VERSION);
    try (KvEngine e = KvEngine.open(kv, EngineOptions.defaults())) {
      assertArrayEquals("v".getBytes(UTF_8), e.read(v -> v.get("k")).value());
      assertEquals(1, e.appliedIndex());
    }
  }

  @Test
  void aSnapshotOfANewerFormatIsRefusedAndTheEngineKeepsItsData() {
    Path kv = dir.resolve("kv");
    Path snap = dir.resolve("snap");
    try (KvEngine source = KvEngine.open(dir.resolve("source"), EngineOptions.defaults())) {
      put(source, 5, "s", "from-snapshot");
      source.snapshotTo(snap);
    }
    assertEquals(5, KvEngine.inspectSnapshot(snap).appliedIndex(), "a current snapshot reads");
    recordFormat(snap, KvEngine.FORMAT_VERSION + 1);
    try (KvEngine e = KvEngine.open(kv, EngineOptions.defaults())) {
      put(e, 1, "k", "mine");
      StoreException x = assertThrows(StoreException.class, () -> e.restoreFrom(snap));
      assertTrue(
          x.getMessage().contains("format version " + (KvEngine.FORMAT_VERSION + 1)),
          x.getMessage());
      assertArrayEquals("mine".getBytes(UTF_8), e.read(v -> v.get("k")).value());
      assertEquals(1, e.appliedIndex());
    }
  }
}
