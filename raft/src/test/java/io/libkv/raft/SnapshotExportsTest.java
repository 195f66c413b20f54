package io.libkv.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.EngineOptions;
import io.libkv.storage.engine.KvEngine;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A member's side of a backup: copies, chunks, limits and clean-up. */
class SnapshotExportsTest {
  @TempDir Path dir;
  private EngineState state;
  private final AtomicLong now = new AtomicLong();
  private SnapshotExports exports;

  @BeforeEach
  void open() {
    state = new EngineState(KvEngine.open(dir.resolve("kv"), EngineOptions.defaults()));
    state.apply(
        7, CommandCodec.encodeCommands(List.of(new Command.Put("k", "v".getBytes(UTF_8), 0, 0))));
    exports = new SnapshotExports(dir.resolve("export"), state, now::get);
  }

  @AfterEach
  void close() {
    exports.close();
    state.close();
  }

  private record Begun(byte[] token, long applied, long size, byte[] sha) {}

  private Begun begin() {
    ByteBuffer b = ByteBuffer.wrap(exports.begin());
    byte[] token = new byte[16];
    b.get(token);
    long applied = b.getLong();
    long size = b.getLong();
    byte[] sha = new byte[32];
    b.get(sha);
    return new Begun(token, applied, size, sha);
  }

  private long files() throws Exception {
    try (Stream<Path> s = Files.list(dir.resolve("export"))) {
      return s.count();
    }
  }

  @Test
  void aCopyIsReadInChunksMatchesItsDigestAndIsDeletedAfterItsLastByte() throws Exception {
    Begun b = begin();
    assertEquals(7, b.applied());
    assertEquals(1, files());
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (long off = 0; off < b.size(); ) {
      byte[] c = exports.chunk(b.token(), off, 4096);
      all.writeBytes(c);
      off += c.length;
    }
    assertEquals(b.size(), all.size());
    assertArrayEquals(
        b.sha(), SnapshotExports.newSha256().digest(all.toByteArray()), "digest of what was read");
    assertEquals(0, exports.openCount());
    assertEquals(0, files());
    MalformedEntryException gone =
        assertThrows(MalformedEntryException.class, () -> exports.chunk(b.token(), 0, 10));
    assertTrue(gone.getMessage().contains("save again"), gone.getMessage());
  }

  @Test
  void badRangesAndUnknownTokensAreRefused() {
    Begun b = begin();
    assertThrows(MalformedEntryException.class, () -> exports.chunk(b.token(), -1, 10));
    assertThrows(MalformedEntryException.class, () -> exports.chunk(b.token(), b.size() + 1, 10));
    assertThrows(MalformedEntryException.class, () -> exports.chunk(b.token(), 0, 0));
    assertThrows(
        MalformedEntryException.class,
        () -> exports.chunk(b.token(), 0, SnapshotExports.MAX_CHUNK + 1));
    byte[] other = Arrays.copyOf(b.token(), 16);
    other[0] ^= 1;
    assertThrows(MalformedEntryException.class, () -> exports.chunk(other, 0, 10));
    assertEquals(1, exports.openCount(), "a refused request leaves the copy");
  }

  @Test
  void atMostTwoCopiesAtOnceAndAnUnreadCopyExpires() throws Exception {
    Begun first = begin();
    begin();
    MalformedEntryException full = assertThrows(MalformedEntryException.class, this::begin);
    assertTrue(full.getMessage().contains("already being saved"), full.getMessage());
    now.addAndGet(SnapshotExports.IDLE_NANOS / 2);
    exports.chunk(first.token(), 0, 1); // read: kept
    now.addAndGet(SnapshotExports.IDLE_NANOS / 2 + 1);
    begin(); // the second copy, unread for longer than IDLE_NANOS, made room
    assertEquals(2, exports.openCount());
    assertEquals(2, files());
    exports.close();
    assertEquals(0, files());
  }
}
