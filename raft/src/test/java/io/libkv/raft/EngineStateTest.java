package io.libkv.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.CommandResult;
import io.libkv.storage.engine.EngineOptions;
import io.libkv.storage.engine.KvEngine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The state machine's view of the engine: revisions, re-applies, malformed entries. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EngineStateTest {
  @TempDir Path dir;
  private EngineState state;

  @BeforeEach
  void open() {
    state = new EngineState(KvEngine.open(dir.resolve("kv"), EngineOptions.defaults()));
  }

  @AfterEach
  void close() {
    state.close();
  }

  private static byte[] entry(Command... commands) {
    return CommandCodec.encodeCommands(List.of(commands));
  }

  private List<CommandResult> apply(long index, byte[] payload) {
    return CommandCodec.decodeResults(state.apply(index, payload));
  }

  @Test
  void eachWriteOfAnEntryGetsItsOwnRevisionFromTheLogIndex() {
    List<CommandResult> r =
        apply(
            7,
            entry(
                new Command.Put("a", "1".getBytes(UTF_8), 0, 0),
                new Command.Put("b", "2".getBytes(UTF_8), 0, 0),
                new Command.Put("a", "3".getBytes(UTF_8), 0, 0)));
    assertEquals((7L << 16), ((CommandResult.Written) r.get(0)).revision());
    assertEquals((7L << 16) + 1, ((CommandResult.Written) r.get(1)).revision());
    assertEquals((7L << 16) + 2, ((CommandResult.Written) r.get(2)).revision());
    List<CommandResult> next = apply(8, entry(new Command.Put("c", new byte[0], 0, 0)));
    assertEquals(8L << 16, ((CommandResult.Written) next.get(0)).revision());
    assertEquals(8, state.appliedIndex());
  }

  @Test
  void casIsDecidedInLogOrder() {
    apply(1, entry(new Command.Put("k", "v".getBytes(UTF_8), 0, 0)));
    long rev = 1L << 16;
    List<CommandResult> r =
        apply(
            2,
            entry(
                new Command.CasPut("k", "x".getBytes(UTF_8), rev, 0, 0),
                new Command.CasPut("k", "y".getBytes(UTF_8), rev, 0, 0)));
    assertInstanceOf(CommandResult.Written.class, r.get(0));
    assertInstanceOf(CommandResult.KeyModified.class, r.get(1));
  }

  @Test
  void reAppliedEntriesAreSkippedWithoutChange() {
    apply(5, entry(new Command.Put("k", "v".getBytes(UTF_8), 0, 0)));
    List<CommandResult> again =
        apply(5, entry(new Command.Put("k", "other".getBytes(UTF_8), 0, 0)));
    assertInstanceOf(CommandResult.Skipped.class, again.get(0));
    assertArrayEquals(
        "v".getBytes(UTF_8), state.engine().read(v -> v.get("k")).value(), "unchanged");
  }

  @Test
  void malformedEntriesAreRejectedWithoutChangingState() {
    apply(1, entry(new Command.Put("k", "v".getBytes(UTF_8), 0, 0)));
    byte[] good = entry(new Command.Put("k", "changed".getBytes(UTF_8), 0, 0));
    List<byte[]> bad = new ArrayList<>();
    bad.add(new byte[0]);
    bad.add(new byte[] {99});
    bad.add(Arrays.copyOf(good, good.length - 1)); // truncated
    bad.add(Arrays.copyOf(good, good.length + 3)); // trailing garbage
    byte[] version = good.clone();
    version[0] = 42;
    bad.add(version);
    Random random = new Random(42);
    for (int i = 0; i < 200; i++) {
      byte[] g = new byte[random.nextInt(64)];
      random.nextBytes(g);
      bad.add(g);
    }
    long index = 2;
    for (byte[] b : bad) {
      long i = index++;
      assertThrows(MalformedEntryException.class, () -> state.apply(i, b), "entry " + i);
    }
    assertEquals(1, state.appliedIndex(), "the applied index did not move");
    assertArrayEquals("v".getBytes(UTF_8), state.engine().read(v -> v.get("k")).value());
    // The node goes on: the next good entry applies.
    apply(index, good);
    assertArrayEquals("changed".getBytes(UTF_8), state.engine().read(v -> v.get("k")).value());
  }

  @Test
  void theEnvelopeIsCheckedBeforeThePayload() {
    assertThrows(MalformedEntryException.class, () -> Wire.entryPayload(ByteString.EMPTY, 1));
    // A version never written is malformed; a newer one is not (it stops the member).
    assertThrows(
        MalformedEntryException.class,
        () -> Wire.entryPayload(ByteString.copyFrom(new byte[] {0, Wire.ENTRY_WRITES}), 1));
    assertThrows(
        NewerFormatException.class,
        () ->
            Wire.entryPayload(
                ByteString.copyFrom(new byte[] {Wire.NEWEST_ENTRY_VERSION + 1, Wire.ENTRY_WRITES}),
                1));
    // Version 2 carries the sender's floor: 8 bytes, not negative.
    assertThrows(
        MalformedEntryException.class,
        () ->
            Wire.entryPayload(
                ByteString.copyFrom(new byte[] {Wire.ENTRY_VERSION, Wire.ENTRY_WRITES, 0, 0}), 1));
    assertThrows(
        MalformedEntryException.class,
        () ->
            Wire.floor(
                Wire.writes(new byte[] {5}, 7)
                    .getContent()
                    .concat(ByteString.EMPTY)
                    .substring(0, 2)
                    .concat(ByteString.copyFrom(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, 5})),
                1));
    ByteString v2 = Wire.writes(new byte[] {5}, 7).getContent();
    assertEquals(7, Wire.floor(v2, 1));
    assertArrayEquals(new byte[] {5}, Wire.entryPayload(v2, 1));
    assertEquals(Wire.NO_FLOOR, Wire.floor(Wire.writes(new byte[] {5}).getContent(), 1));
    assertThrows(
        MalformedEntryException.class,
        () -> Wire.entryPayload(ByteString.copyFrom(new byte[] {Wire.VERSION, 9}), 1));
    assertArrayEquals(
        new byte[] {5},
        Wire.entryPayload(ByteString.copyFrom(new byte[] {Wire.VERSION, Wire.ENTRY_WRITES, 5}), 1));
  }

  @Test
  void malformedReadRequestsAreRejected() {
    assertThrows(MalformedEntryException.class, () -> state.query(new byte[0]));
    assertThrows(MalformedEntryException.class, () -> state.query(new byte[] {77}));
    assertThrows(MalformedEntryException.class, () -> state.query(new byte[] {ReadCodec.GET}));
  }

  @Test
  void snapshotsRoundTripThroughASingleFile() {
    apply(3, entry(new Command.Put("s", "1".getBytes(UTF_8), 0, 0)));
    Path file = dir.resolve("snapshot.1_3");
    assertEquals(3, state.snapshotTo(file));
    apply(4, entry(new Command.Delete("s")));
    assertNull(state.engine().read(v -> v.get("s")));
    assertEquals(3, state.restoreFrom(file));
    assertArrayEquals("1".getBytes(UTF_8), state.engine().read(v -> v.get("s")).value());
    assertEquals(3, state.appliedIndex());
  }

  @Test
  void theLeaderRefusesWhatNoStoreCouldHaveSent() {
    EngineState small = new EngineState(state.engine(), 4);
    small.validate(entry(new Command.Put("a/b", new byte[4], 0, 0), new Command.Delete("a")));
    List<byte[]> refused =
        List.of(
            entry(new Command.Put("/a", new byte[1], 0, 0)),
            entry(new Command.Put("a/", new byte[1], 0, 0)),
            entry(new Command.Put("", new byte[1], 0, 0)),
            entry(new Command.Put("\u0000internal", new byte[1], 0, 0)),
            entry(new Command.Put("a", new byte[5], 0, 0)),
            entry(new Command.CasPut("a", new byte[5], 1, 0, 0)),
            entry(new Command.Put("a", new byte[1], 0, -1)),
            entry(new Command.DeleteTree("x//y")),
            entry(new Command.LockEnqueue("not-internal", 1000)),
            new byte[] {1, 2, 3});
    for (byte[] r : refused) {
      assertThrows(MalformedEntryException.class, () -> small.validate(r));
    }
  }
}
