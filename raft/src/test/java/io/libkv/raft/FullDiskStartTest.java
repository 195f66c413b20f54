package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.StoreException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A member's start failure put down to a full disk, or not. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FullDiskStartTest {
  @TempDir Path dir;

  @Test
  void aStartFailingWithNoSpaceLeftSaysTheDiskIsFullAndNotToClearTheDirectory() {
    RuntimeException failure =
        new IllegalStateException(
            "cannot open", new UncheckedIOException(new IOException("No space left on device")));
    StoreException e = FullDiskStart.check("n1", dir, failure);
    assertNotNull(e);
    assertSame(failure, e.getCause());
    String m = e.getMessage();
    assertTrue(
        m.startsWith("EMBEDDED member n1 cannot start: the disk of its data directory " + dir)
            && m.contains("bytes usable")
            && m.contains("free disk space and start the member again")
            && m.contains("do not clear its data directory"),
        m);
  }

  @Test
  void otherFailuresOnADiskWithRoomAreLeftAlone() {
    assertNull(FullDiskStart.check("n1", dir, new IllegalStateException("raft-meta is corrupt")));
    assertNull(
        FullDiskStart.check(
            "n1", dir.resolve("not/yet"), new IllegalStateException("port in use")));
  }

  @Test
  void anEmptyRaftMetaIsRefusedNamingAFullDiskAsItsLikelyCause() throws Exception {
    java.nio.file.Path meta = dir.resolve("raft/g/current/raft-meta");
    java.nio.file.Files.createDirectories(meta.getParent());
    java.nio.file.Files.write(meta, new byte[0]);
    StoreException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            StoreException.class, () -> FullDiskStart.beforeStart("n1", dir, "g"));
    assertTrue(
        e.getMessage().contains("raft-meta (its current term and vote) is empty")
            && e.getMessage().contains("the disk is full"),
        e.getMessage());
    java.nio.file.Files.write(meta, "term=1\nvotedFor=n1\n".getBytes());
    FullDiskStart.beforeStart("n1", dir, "g"); // a written raft-meta, room on the disk: no refusal
  }
}
