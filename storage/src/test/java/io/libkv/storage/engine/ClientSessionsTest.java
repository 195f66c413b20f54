package io.libkv.storage.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once batches: a late copy of a call its client had finished with (call id below the floor
 * a later batch carried) changes nothing but the applied index, on this engine and on one restored
 * from its snapshot; calls at or above the floor, other clients and batches outside any session
 * apply as before; the sessions are bounded.
 */
class ClientSessionsTest {
  private static final byte[] A = "client-a-16bytes".getBytes(UTF_8);
  private static final byte[] B = "client-b-16bytes".getBytes(UTF_8);

  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static List<CommandResult> put(
      KvEngine e, long index, String key, String value, ClientCall call) {
    return e.apply(index, index << 16, List.of(new Command.Put(key, b(value), 0, 0)), call);
  }

  private static String value(KvEngine e, String key) {
    KvEntry k = e.read(v -> v.get(key));
    return k == null ? null : new String(k.value(), UTF_8);
  }

  @Test
  void aLateCopyOfAFinishedCallChangesNothingButTheAppliedIndex() {
    try (KvEngine e = KvEngine.open(dir.resolve("kv"), EngineOptions.defaults())) {
      put(e, 1, "reg", "old", new ClientCall(A, 5, 5));
      // The client had its answer for call 5; call 9 says so (floor 9).
      put(e, 2, "reg", "new", new ClientCall(A, 9, 9));
      List<CommandResult> late = put(e, 3, "reg", "old", new ClientCall(A, 5, 5));
      assertInstanceOf(CommandResult.Skipped.class, late.get(0));
      assertEquals("new", value(e, "reg"), "the late copy overwrote a newer write");
      assertEquals(3, e.appliedIndex(), "the applied index moves past a late copy");
      long revision = e.lastRevision();
      // Another client, and a batch outside any session, are not affected.
      put(e, 4, "other", "b", new ClientCall(B, 1, 1));
      put(e, 5, "plain", "p", null);
      assertEquals("b", value(e, "other"));
      assertEquals("p", value(e, "plain"));
      assertEquals(5L << 16, e.lastRevision());
      assertEquals(2L << 16, revision, "a skipped copy takes no revision");
    }
  }

  @Test
  void aCallAtOrAboveTheFloorStillApplies() {
    try (KvEngine e = KvEngine.open(dir.resolve("kv"), EngineOptions.defaults())) {
      // Calls 7 and 9 in flight together: 9 carries floor 7, 7 is still awaited.
      put(e, 1, "k9", "x", new ClientCall(A, 9, 7));
      put(e, 2, "k7", "y", new ClientCall(A, 7, 7));
      assertEquals("y", value(e, "k7"));
      // A lower floor carried later never lowers the session's.
      put(e, 3, "k10", "z", new ClientCall(A, 10, 10));
      put(e, 4, "k11", "w", new ClientCall(A, 11, 8));
      put(e, 5, "k9", "again", new ClientCall(A, 9, 7));
      assertEquals("x", value(e, "k9"), "call 9 is below the floor 10: not applied again");
    }
  }

  @Test
  void sessionsSurviveReopenAndSnapshotRestore() {
    Path kv = dir.resolve("kv");
    SnapshotInfo snap;
    try (KvEngine e = KvEngine.open(kv, EngineOptions.defaults())) {
      put(e, 1, "reg", "old", new ClientCall(A, 5, 5));
      put(e, 2, "reg", "new", new ClientCall(A, 9, 9));
      snap = e.snapshotTo(dir.resolve("snap"));
    }
    try (KvEngine e = KvEngine.open(kv, EngineOptions.defaults())) {
      put(e, 3, "reg", "old", new ClientCall(A, 5, 5));
      assertEquals("new", value(e, "reg"), "after a reopen");
    }
    Path other = dir.resolve("other");
    try (KvEngine e = KvEngine.open(other, EngineOptions.defaults())) {
      e.restoreFrom(snap.directory());
      put(e, 3, "reg", "old", new ClientCall(A, 5, 5));
      assertEquals("new", value(e, "reg"), "on a replica restored from the snapshot");
    }
  }

  @Test
  void theClientSeenLongestAgoIsEvictedBeyondTheLimit() {
    try (KvEngine e = KvEngine.open(dir.resolve("kv"), EngineOptions.defaults())) {
      put(e, 1, "reg", "old", new ClientCall(A, 5, 5));
      put(e, 2, "reg", "new", new ClientCall(A, 9, 9));
      long index = 3;
      for (int i = 0; i < ClientSessions.MAX_SESSIONS; i++) {
        byte[] id = ("client-" + i).getBytes(UTF_8);
        e.apply(index, index << 16, List.of(), new ClientCall(id, 1, 1));
        index++;
      }
      // A was seen longest ago: its session went, so its late copy is applied (the bound's cost).
      put(e, index, "reg", "old", new ClientCall(A, 5, 5));
      assertArrayEquals(b("old"), e.read(v -> v.get("reg")).value());
    }
  }

  @Test
  void aCallIsRefusedIfItsFloorIsAboveIt() {
    assertThrows(IllegalArgumentException.class, () -> new ClientCall(A, 5, 6));
    assertThrows(IllegalArgumentException.class, () -> new ClientCall(new byte[0], 5, 5));
  }
}
