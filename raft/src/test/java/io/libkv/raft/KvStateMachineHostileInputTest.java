package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.CommandResult;
import io.libkv.storage.engine.EngineOptions;
import io.libkv.storage.engine.KvEngine;
import io.libkv.storage.engine.KvEntry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile log entries fed to the apply path of the embedded backend's Raft state machine ({@link
 * KvStateMachine} over {@link EngineState} over a real LMDB engine), as a peer or client that
 * speaks Ratis directly could put them in the log: arbitrary bytes, truncated and bit-flipped valid
 * entries. Every one must be answered (never a failed future, which Ratis 3.3.0 logs and skips on
 * that member only, nor an exception, which stops the member), and one that is rejected as
 * malformed must leave the data, the revision and the applied index exactly as they were; a valid
 * entry applies normally afterwards. Seeded: the seed is printed and {@code -Dlibkv.fuzz.seed=N}
 * replays a run.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KvStateMachineHostileInputTest {
  private static final int RUNS = 300;

  @TempDir Path dir;
  private KvEngine engine;
  private KvStateMachine machine;
  private long index;

  @BeforeEach
  void open() {
    engine = KvEngine.open(dir, EngineOptions.builder().historySize(64).build());
    machine = new KvStateMachine(new EngineState(engine), leader -> {});
  }

  @AfterEach
  void close() throws Exception {
    machine.close();
    engine.close();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] validEntry(Command... commands) {
    return Wire.writes(CommandCodec.encodeCommands(List.of(commands))).getContent().toByteArray();
  }

  /** Applies {@code data} as the next log entry; fails the test if the future failed. */
  private Message apply(byte[] data) throws Exception {
    index++;
    LogEntryProto entry =
        LogEntryProto.newBuilder()
            .setTerm(1)
            .setIndex(index)
            .setStateMachineLogEntry(
                StateMachineLogEntryProto.newBuilder().setLogData(ByteString.copyFrom(data)))
            .build();
    TransactionContext trx =
        TransactionContext.newBuilder()
            .setStateMachine(machine)
            .setServerRole(RaftPeerRole.FOLLOWER)
            .setLogEntry(entry)
            .build();
    CompletableFuture<Message> f = machine.applyTransaction(trx);
    assertFalse(
        f.isCompletedExceptionally(),
        "entry " + index + " failed the apply future (skipped on one member): " + hex(data));
    return f.get(10, TimeUnit.SECONDS);
  }

  private static boolean malformed(Message reply) {
    ByteString c = reply.getContent();
    return !c.isEmpty() && c.byteAt(0) == Wire.STATUS_MALFORMED;
  }

  /** Everything a client could observe: data (internal keys included), revision, applied index. */
  private String fingerprint() {
    return engine.read(
        v -> {
          StringBuilder s = new StringBuilder();
          s.append(v.appliedIndex()).append('/').append(v.revision()).append('/');
          for (KvEntry e : v.listPrefix("")) {
            s.append(e.key())
                .append('=')
                .append(Arrays.toString(e.value()))
                .append('@')
                .append(e.modRevision())
                .append(',');
          }
          s.append(v.leases());
          return s.toString();
        });
  }

  @Test
  void arbitraryBytesAreRejectedWithoutChangingState() throws Exception {
    long seed = Long.getLong("libkv.fuzz.seed", System.nanoTime());
    System.out.println("KvStateMachineHostileInputTest seed " + seed);
    Random random = new Random(seed);
    byte[] good =
        validEntry(
            new Command.Put("app/config", b("v1"), 0, 0),
            new Command.Put("app/leader", b("n1"), 0, 0),
            new Command.DeleteTree("app/gone"));
    assertFalse(malformed(apply(good)));
    int rejected = 0;
    for (int run = 0; run < RUNS; run++) {
      byte[] hostile = hostile(random, good);
      String before = fingerprint();
      Message reply = apply(hostile);
      if (malformed(reply)) {
        rejected++;
        assertEquals(
            before,
            fingerprint(),
            "seed " + seed + ", run " + run + ": a rejected entry changed state: " + hex(hostile));
      } else {
        // A mutation may still be a valid batch (e.g. a flipped byte inside a value): it is
        // then applied like any client's entry, and its results must decode.
        List<Command> commands =
            CommandCodec.decodeCommands(Arrays.copyOfRange(hostile, 2, hostile.length));
        List<CommandResult> results = CommandCodec.decodeResults(Wire.body(reply));
        assertEquals(commands.size(), results.size(), "seed " + seed + ", run " + run);
      }
    }
    assertTrue(rejected > RUNS / 2, "seed " + seed + ": only " + rejected + " rejected");
    // The member still applies valid entries.
    String before = fingerprint();
    assertFalse(malformed(apply(validEntry(new Command.Put("app/after", b("ok"), 0, 0)))));
    assertArrayEquals(b("ok"), engine.read(v -> v.get("app/after")).value());
    assertTrue(!before.equals(fingerprint()));
    assertEquals(index, engine.appliedIndex());
  }

  /**
   * A hostile entry that is malformed: one claiming a NEWER format version is not malformed but
   * stops the member ({@link #anEntryOfANewerFormatStopsTheMemberInsteadOfSkippingIt}), so its
   * version byte becomes 0, a version never written.
   */
  private static byte[] hostile(Random random, byte[] good) {
    byte[] h = mutate(random, good);
    if (h.length > 0 && Byte.toUnsignedInt(h[0]) > Wire.ENTRY_VERSION) {
      h[0] = 0;
    }
    return h;
  }

  private static byte[] mutate(Random random, byte[] good) {
    switch (random.nextInt(4)) {
      case 0: // pure noise, sometimes behind a valid envelope header
        byte[] noise = new byte[random.nextInt(96)];
        random.nextBytes(noise);
        if (noise.length >= 2 && random.nextBoolean()) {
          noise[0] = Wire.VERSION;
          noise[1] = Wire.ENTRY_WRITES;
        }
        return noise;
      case 1: // truncated valid entry
        return Arrays.copyOf(good, random.nextInt(good.length));
      case 2: // valid entry with bytes flipped
        byte[] flipped = good.clone();
        for (int i = 1 + random.nextInt(3); i > 0; i--) {
          flipped[random.nextInt(flipped.length)] ^= (byte) (1 + random.nextInt(255));
        }
        return flipped;
      default: // valid entry with trailing garbage or a lying length/count field
        byte[] longer = Arrays.copyOf(good, good.length + 1 + random.nextInt(8));
        int at = 2 + random.nextInt(good.length - 2);
        longer[at] = (byte) 0x7f;
        return longer;
    }
  }

  @Test
  void wellFormedButInvalidCommandsChangeNothing() throws Exception {
    assertFalse(malformed(apply(validEntry(new Command.Put("keep", b("kept"), 0, 0)))));
    String before = data();
    String tooLong = "k".repeat(600);
    List<Command> invalid = new ArrayList<>();
    invalid.add(new Command.Put(tooLong, b("v"), 0, 0));
    invalid.add(new Command.Put("", b("v"), 0, 0));
    invalid.add(new Command.Put("x", b("v"), -5, 0)); // negative lease id
    invalid.add(new Command.Put("x", b("v"), 0, -1)); // negative ttl
    invalid.add(new Command.Put("x", b("v"), 99, 0)); // lease that does not exist
    invalid.add(new Command.CasPut("keep", b("v"), 12345, 0, 0)); // stale index
    invalid.add(new Command.Delete(tooLong));
    invalid.add(new Command.DeleteTree(""));
    invalid.add(new Command.LeaseGrant(0, 0));
    // Keys a client-side store would never send (SPEC: refused by Keys.normalize), and internal
    // keys (a forged lock-queue waiter would steal a lock).
    for (String bad :
        List.of(
            "a//b",
            "x/../y",
            "./x",
            "/keep",
            "keep/",
            "bad\u0001ctl",
            KvEngine.INTERNAL_PREFIX + "lock/q/0000000000000001")) {
      invalid.add(new Command.Put(bad, b("v"), 0, 0));
      invalid.add(new Command.CasPut(bad, b("v"), 0, 0, 0));
      invalid.add(new Command.Delete(bad));
      invalid.add(new Command.DeleteTree(bad));
    }
    invalid.add(new Command.DeleteTree(KvEngine.INTERNAL_PREFIX));
    invalid.add(new Command.LeaseRevoke(424242));
    for (Command c : invalid) {
      Message reply = apply(validEntry(c));
      assertFalse(malformed(reply), c.toString());
      List<CommandResult> results = CommandCodec.decodeResults(Wire.body(reply));
      assertEquals(1, results.size(), c.toString());
      assertFalse(
          results.get(0) instanceof CommandResult.Written
              || results.get(0) instanceof CommandResult.LeaseGranted,
          c + " was applied: " + results.get(0));
      // The entry is consumed (the applied index and revision counter may move), nothing else.
      assertEquals(before, data(), c.toString());
    }
    assertArrayEquals(b("kept"), engine.read(v -> v.get("keep")).value());
  }

  private void startTransaction(byte[] content) throws Exception {
    RaftClientRequest request =
        RaftClientRequest.newBuilder()
            .setClientId(ClientId.randomId())
            .setServerId(RaftPeerId.valueOf("n1"))
            .setGroupId(RaftGroupId.randomId())
            .setCallId(1)
            .setMessage(Message.valueOf(ByteString.copyFrom(content)))
            .setType(RaftClientRequest.writeRequestType())
            .build();
    TransactionContext t = machine.startTransaction(request);
    if (t.getException() != null) {
      throw t.getException(); // what Ratis answers the client with, appending nothing
    }
  }

  @Test
  void theLeaderRefusesHostileRequestsBeforeTheLog() throws Exception {
    long seed = Long.getLong("libkv.fuzz.seed", System.nanoTime());
    System.out.println("KvStateMachineHostileInputTest (startTransaction) seed " + seed);
    Random random = new Random(seed);
    machine = new KvStateMachine(new EngineState(engine, 1024), leader -> {});
    String before = fingerprint();
    // What a store sends passes.
    startTransaction(validEntry(new Command.Put("app/k", new byte[1024], 0, 0)));
    // Over the value limit, keys no store sends, and noise: refused (StateMachineException).
    List<byte[]> hostile = new ArrayList<>();
    hostile.add(validEntry(new Command.Put("app/k", new byte[1025], 0, 0)));
    hostile.add(validEntry(new Command.CasPut("app/k", new byte[4096], 1, 0, 0)));
    hostile.add(validEntry(new Command.Put("a//b", b("v"), 0, 0)));
    hostile.add(validEntry(new Command.Delete("x/../y")));
    hostile.add(validEntry(new Command.Put(KvEngine.INTERNAL_PREFIX + "lock/x", b("v"), 0, 0)));
    for (int i = 0; i < 50; i++) {
      byte[] noise = new byte[random.nextInt(64)];
      random.nextBytes(noise);
      if (noise.length >= 2) {
        noise[0] = Wire.VERSION;
        noise[1] = Wire.ENTRY_WRITES;
      }
      hostile.add(noise);
    }
    for (byte[] h : hostile) {
      IOException e = assertThrows(IOException.class, () -> startTransaction(h), hex(h));
      assertTrue(e.getMessage().contains("refused before the log"), e.getMessage());
    }
    assertEquals(before, fingerprint(), "startTransaction must not change state");
  }

  @Test
  void anEntryOfANewerFormatStopsTheMemberInsteadOfSkippingIt() throws Exception {
    assertFalse(malformed(apply(validEntry(new Command.Put("keep", b("kept"), 0, 0)))));
    String before = fingerprint();
    long applied = engine.appliedIndex();
    byte[] newer = validEntry(new Command.Put("new", b("v"), 0, 0));
    newer[0] = (byte) (Wire.NEWEST_ENTRY_VERSION + 1);
    // A request in a newer format is refused before the log by a leader that cannot read it.
    IOException refused = assertThrows(IOException.class, () -> startTransaction(newer));
    assertTrue(refused.getMessage().contains("refused before the log"), refused.getMessage());
    assertTrue(refused.getMessage().contains("format version " + (Wire.NEWEST_ENTRY_VERSION + 1)));
    // In the log (a newer leader wrote it): the member stops, naming both versions; never skips.
    index++;
    LogEntryProto entry =
        LogEntryProto.newBuilder()
            .setTerm(1)
            .setIndex(index)
            .setStateMachineLogEntry(
                StateMachineLogEntryProto.newBuilder().setLogData(ByteString.copyFrom(newer)))
            .build();
    TransactionContext trx =
        TransactionContext.newBuilder()
            .setStateMachine(machine)
            .setServerRole(RaftPeerRole.FOLLOWER)
            .setLogEntry(entry)
            .build();
    io.libkv.store.StoreException stop =
        assertThrows(io.libkv.store.StoreException.class, () -> machine.applyTransaction(trx));
    String why = stop.getMessage();
    assertTrue(why.contains("log entry " + index), why);
    assertTrue(why.contains("format version " + (Wire.NEWEST_ENTRY_VERSION + 1)), why);
    assertTrue(why.contains("reads version " + Wire.NEWEST_ENTRY_VERSION), why);
    assertTrue(why.contains("upgrade"), why);
    assertEquals(why, machine.failure(), "the member reports why it stopped");
    assertEquals(before, fingerprint(), "nothing of the entry was applied");
    assertEquals(applied, engine.appliedIndex(), "the entry is not marked applied (not skipped)");
  }

  @Test
  void theLeaderAppliesTheCommandsItCheckedWithoutDecodingThemAgain() throws Exception {
    RaftClientRequest request =
        RaftClientRequest.newBuilder()
            .setClientId(ClientId.randomId())
            .setServerId(RaftPeerId.valueOf("n1"))
            .setGroupId(RaftGroupId.randomId())
            .setCallId(1)
            .setMessage(
                Message.valueOf(
                    ByteString.copyFrom(validEntry(new Command.Put("app/once", b("v1"), 0, 0)))))
            .setType(RaftClientRequest.writeRequestType())
            .build();
    TransactionContext t = machine.startTransaction(request);
    assertTrue(
        t.getStateMachineContext() instanceof ReplicatedState.Checked,
        "the leader keeps what it checked: " + t.getStateMachineContext());
    index++;
    t.initLogEntry(1, index);
    Message reply = machine.applyTransaction(t).get(10, TimeUnit.SECONDS);
    List<CommandResult> results = CommandCodec.decodeResults(Wire.body(reply));
    assertEquals(
        index << EngineState.REVISION_SHIFT, ((CommandResult.Written) results.get(0)).revision());
    assertArrayEquals(b("v1"), engine.read(v -> v.get("app/once")).value());
  }

  /** The stored pairs (internal keys included) and leases. */
  private String data() {
    String f = fingerprint();
    return f.substring(f.indexOf('/', f.indexOf('/') + 1));
  }

  private static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < b.length && i < 64; i++) {
      s.append(String.format("%02x", b[i]));
    }
    return b.length > 64 ? s + "..." : s.toString();
  }
}
