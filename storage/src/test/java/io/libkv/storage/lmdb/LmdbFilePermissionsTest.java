package io.libkv.storage.lmdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.libkv.LibKV;
import io.libkv.storage.engine.KvEngine;
import io.libkv.storage.engine.OwnerOnly;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Directories and files libkv creates for an LMDB store are its owner's alone (0700 / 0600), so
 * other local users cannot read the data whatever the umask; a directory the user made keeps its
 * mode. POSIX file systems only (skipped elsewhere).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LmdbFilePermissionsTest {
  @TempDir Path tmp;

  @BeforeEach
  void posixOnly() {
    assumeTrue(OwnerOnly.posix(tmp), "the file system has no POSIX permissions");
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void aNewDataDirectoryAndItsFilesAreOwnerOnly() throws Exception {
    Path dir = tmp.resolve("missing-parent").resolve("kv");
    try (Store s = LibKV.newStore(Backend.LMDB, List.of(), Config.builder().dataDir(dir).build())) {
      s.put("k", "v".getBytes(StandardCharsets.UTF_8), null);
    }
    assertEquals("rwx------", mode(dir.getParent()), "created parent");
    assertEquals("rwx------", mode(dir), "data directory");
    for (String f : List.of("data.mdb", "lock.mdb", "libkv.lock")) {
      assertEquals("rw-------", mode(dir.resolve(f)), f);
    }
  }

  @Test
  void aSnapshotCopyIsOwnerOnly() throws Exception {
    Path dir = tmp.resolve("engine");
    Path snap = tmp.resolve("snap");
    KvEngine e = KvEngine.open(dir, io.libkv.storage.engine.EngineOptions.builder().build());
    try {
      e.snapshotTo(snap);
    } finally {
      e.close();
    }
    assertEquals("rwx------", mode(snap));
    assertEquals("rw-------", mode(snap.resolve("data.mdb")));
  }

  @Test
  void anExistingDirectoryKeepsTheModeItsOwnerGaveIt() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("shared"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-x---"));
    try (Store s = LibKV.newStore(Backend.LMDB, List.of(), Config.builder().dataDir(dir).build())) {
      s.put("k", "v".getBytes(StandardCharsets.UTF_8), null);
    }
    assertEquals("rwxr-x---", mode(dir));
    assertEquals("rw-------", mode(dir.resolve("data.mdb")));
  }
}
