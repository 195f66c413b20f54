package io.libkv.storage.lmdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data directory whose LMDB file is damaged or is not an LMDB file: the store refuses to open
 * with a {@link StoreException} naming the directory (never a JVM crash, never an empty store that
 * silently replaces the data), and a cleared directory opens again.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LmdbCorruptDataTest {
  @TempDir Path dir;

  private Store open() {
    return LibKV.newStore(Backend.LMDB, List.of(), Config.builder().dataDir(dir).build());
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void damagedMetaPagesAreRefusedNamingTheDirectory() throws Exception {
    try (Store s = open()) {
      s.put("c/k", b("v"), null);
    }
    Path data = dir.resolve("data.mdb");
    long size = Files.size(data);
    // Both meta pages (the first two 4 KiB pages) overwritten: no valid root to start from.
    try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
      f.seek(0);
      f.write(new byte[8192]);
    }
    assertRefused();
    assertTrue(Files.size(data) >= Math.min(size, 8192), "the damaged file was replaced");
    clearAndReopen();
  }

  @Test
  void aFileThatIsNotLmdbIsRefused() throws Exception {
    Files.writeString(dir.resolve("data.mdb"), "not an lmdb file\n".repeat(1000));
    assertRefused();
    assertTrue(
        Files.readString(dir.resolve("data.mdb")).startsWith("not an lmdb file"),
        "the foreign file was overwritten");
    clearAndReopen();
  }

  private void assertRefused() throws Exception {
    StoreException e = assertThrows(StoreException.class, this::open);
    String m = e.getMessage();
    assertTrue(m.contains(dir.toRealPath().toString()) || m.contains(dir.toString()), m);
  }

  private void clearAndReopen() throws Exception {
    Files.delete(dir.resolve("data.mdb"));
    Files.deleteIfExists(dir.resolve("lock.mdb"));
    try (Store s = open()) {
      s.put("c/new", b("fresh"), null);
      assertArrayEquals(b("fresh"), s.get("c/new").value());
    }
  }
}
