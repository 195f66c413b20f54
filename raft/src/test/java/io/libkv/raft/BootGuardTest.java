package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BootGuardTest {
  @TempDir Path dir;

  private Path kvFile() throws Exception {
    Path f = dir.resolve("kv").resolve("data.mdb");
    Files.createDirectories(f.getParent());
    Files.writeString(f, "data");
    return f;
  }

  private String recorded() throws Exception {
    return Files.readString(dir.resolve(BootGuard.FILE)).trim();
  }

  @Test
  void theSameBootKeepsKvAndAnotherBootDeletesIt() throws Exception {
    Path f = kvFile();
    assertTrue(BootGuard.prepare(dir, "boot-1"), "no boot recorded yet: kv/ is not trusted");
    assertFalse(Files.exists(f));
    assertEquals("boot-1", recorded());

    f = kvFile();
    assertFalse(BootGuard.prepare(dir, "boot-1"), "same boot: a process crash keeps kv/");
    assertTrue(Files.exists(f));

    assertTrue(BootGuard.prepare(dir, "boot-2"), "the machine rebooted: kv/ is rebuilt");
    assertFalse(Files.exists(dir.resolve("kv")));
    assertEquals("boot-2", recorded());
  }

  @Test
  void anUnknownBootNeverTrustsKv() throws Exception {
    Path f = kvFile();
    assertTrue(BootGuard.prepare(dir, null));
    assertFalse(Files.exists(f));
    assertFalse(Files.exists(dir.resolve(BootGuard.FILE)));
  }

  @Test
  void aFreshDirectoryIsLeftAloneButRecorded() throws Exception {
    assertFalse(BootGuard.prepare(dir, "boot-1"));
    assertEquals("boot-1", recorded());
  }

  @Test
  void thisMachineHasABootId() {
    // Linux, where CI runs: the guard must not fall back to rebuilding on every start.
    if (System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
      assertTrue(BootGuard.currentBoot() != null && BootGuard.currentBoot().length() >= 16);
    }
  }
}
