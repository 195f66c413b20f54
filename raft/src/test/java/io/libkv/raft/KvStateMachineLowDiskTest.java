package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.CommandResult;
import io.libkv.storage.engine.EngineOptions;
import io.libkv.storage.engine.KvEngine;
import io.libkv.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leader's low-disk admission ({@code embedded.minFreeDiskBytes}, {@link DiskGuard}) in {@link
 * KvStateMachine#startTransaction}, with the usable space simulated, and what the state machine
 * does when applying fails (it must throw, never skip the entry).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KvStateMachineLowDiskTest {
  private static final long MIN_FREE = 1_000_000;

  @TempDir Path dir;
  private final AtomicLong usable = new AtomicLong(Long.MAX_VALUE);
  private KvEngine engine;
  private KvStateMachine machine;
  private long index;

  @BeforeEach
  void open() throws Exception {
    Files.createDirectories(dir.resolve("raft"));
    engine = KvEngine.open(dir.resolve("kv"), EngineOptions.builder().historySize(64).build());
    DiskGuard.simulatedUsableBytes = d -> d.startsWith(dir) ? usable.get() : Long.MAX_VALUE;
    DiskGuard guard =
        new DiskGuard("n1", List.of(dir.resolve("raft"), dir.resolve("kv")), MIN_FREE, 0, () -> 0);
    machine =
        new KvStateMachine(
            new EngineState(engine), l -> {}, index -> {}, guard, "member n1 (test)");
  }

  @AfterEach
  void close() throws Exception {
    DiskGuard.simulatedUsableBytes = null;
    machine.close();
    engine.close();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] entry(Command... commands) {
    return Wire.writes(CommandCodec.encodeCommands(List.of(commands))).getContent().toByteArray();
  }

  private TransactionContext start(byte[] content) throws Exception {
    return StateMachineDriver.start(machine, ByteString.copyFrom(content));
  }

  /** Applies what the leader would log for {@code trx}, as the next entry; returns the results. */
  private List<CommandResult> apply(TransactionContext trx) throws Exception {
    return CommandCodec.decodeResults(
        Wire.body(
            StateMachineDriver.apply(
                machine, trx.getStateMachineLogEntry().getLogData(), ++index)));
  }

  private void awaitRefused(byte[] content) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (true) {
      try {
        start(content);
      } catch (StateMachineException e) {
        return;
      }
      assertTrue(System.nanoTime() < deadline, "a low disk was not seen within 5 s");
      Thread.onSpinWait();
    }
  }

  private static void assertClear(String message) {
    assertTrue(
        message.contains("member n1 is low on disk space")
            && message.contains("999 bytes usable in ")
            && message.contains("embedded.minFreeDiskBytes=1000000")
            && message.contains("delete keys or free disk space"),
        message);
  }

  @Test
  void aLowDiskRefusesWritesThatAddDataAndLetsTheRestThrough() throws Exception {
    List<CommandResult> r = apply(start(entry(new Command.Put("app/a", b("1"), 0, 0))));
    assertInstanceOf(CommandResult.Written.class, r.get(0));
    long lease =
        ((CommandResult.LeaseGranted) apply(start(entry(new Command.LeaseGrant(0, 60_000)))).get(0))
            .leaseId();

    usable.set(999);
    // The guard reads the space at most every 100 ms: a low disk shows within that.
    awaitRefused(entry(new Command.Put("app/b", b("2"), 0, 0)));
    for (Command c :
        List.of(
            new Command.Put("app/b", b("2"), 0, 0),
            new Command.CasPut("app/a", b("3"), 1, 0, 0),
            new Command.LeaseGrant(0, 1000),
            new Command.LockEnqueue(KvEngine.INTERNAL_PREFIX + "lock/x/", 1000))) {
      StateMachineException e = assertThrows(StateMachineException.class, () -> start(entry(c)));
      assertClear(e.getMessage());
    }
    // Deletes, lease renewals and revocations go to the log unchanged.
    byte[] keep = entry(new Command.LeaseKeepAlive(lease));
    TransactionContext t = start(keep);
    assertArrayEquals(keep, t.getStateMachineLogEntry().getLogData().toByteArray());
    assertInstanceOf(CommandResult.LeaseKept.class, apply(t).get(0));
    // A put batched with a delete: the put is refused inside the entry, the delete applies.
    List<CommandResult> mixed =
        apply(start(entry(new Command.Put("app/c", b("4"), 0, 0), new Command.Delete("app/a"))));
    CommandResult.Failed refused = assertInstanceOf(CommandResult.Failed.class, mixed.get(0));
    assertClear(refused.reason());
    StoreException x = assertInstanceOf(StoreException.class, refused.toException());
    assertClear(x.getMessage());
    assertInstanceOf(CommandResult.Deleted.class, mixed.get(1));
    assertNull(engine.read(v -> v.get("app/c")));
    assertNull(engine.read(v -> v.get("app/a")));
    assertInstanceOf(
        CommandResult.Deleted.class,
        apply(start(entry(new Command.LeaseRevoke(lease)))).get(0),
        "a revocation (unlock) passes");

    // Space freed: the next write is admitted, no restart.
    usable.set(MIN_FREE * 10);
    assertInstanceOf(
        CommandResult.Written.class,
        apply(start(entry(new Command.Put("app/d", b("5"), 0, 0)))).get(0));
    assertArrayEquals(b("5"), engine.read(v -> v.get("app/d")).value());
  }

  @Test
  void aDataCapRefusesWritesThatAddDataUntilKeysAreDeleted() throws Exception {
    long cap = 64 << 10;
    DiskGuard guard = new DiskGuard("n1", List.of(), 0, cap, engine::liveDataBytes);
    machine =
        new KvStateMachine(
            new EngineState(engine), l -> {}, index -> {}, guard, "member n1 (test)");
    byte[] value = new byte[1000];
    int stored = 0;
    StateMachineException refused = null;
    while (refused == null && stored < 1000) {
      try {
        apply(start(entry(new Command.Put("app/" + stored, value, 0, 0))));
        stored++;
      } catch (StateMachineException e) {
        refused = e;
      }
    }
    assertNotNull(refused, "never refused; live data " + engine.liveDataBytes());
    assertTrue(stored > 20, "stored " + stored);
    String m = refused.getMessage();
    assertTrue(
        m.contains("member n1 holds ")
            && m.contains("bytes of data, at its limit embedded.maxDataBytes=" + cap)
            && m.contains("until keys are deleted"),
        m);
    long live = engine.liveDataBytes();
    assertTrue(live >= cap - 8192 && live < cap + 8192, "live data " + live + ", cap " + cap);
    for (int i = 0; i < stored; i++) {
      int n = i;
      assertArrayEquals(value, engine.read(v -> v.get("app/" + n)).value());
    }
    for (int i = 0; i < stored; i++) {
      apply(start(entry(new Command.Delete("app/" + i))));
    }
    assertTrue(engine.liveDataBytes() < cap / 4, "after deletes: " + engine.liveDataBytes());
    assertInstanceOf(
        CommandResult.Written.class,
        apply(start(entry(new Command.Put("app/again", value, 0, 0)))).get(0),
        "admitted again once keys are deleted");
  }

  @Test
  void theEstimateCountsAdmittedBytesSoALowDiskIsSeenBeforeTheNextReading() {
    DiskGuard guard = new DiskGuard("n1", List.of(dir.resolve("raft")), MIN_FREE, 0, () -> 0);
    usable.set(MIN_FREE + 100_000);
    assertNull(guard.shortage(40_000));
    // The reading is cached, but 2 x 40,000 admitted bytes leave 20,000 of headroom: a 15,000 byte
    // entry passes, then the estimate is under the minimum and the space is read again.
    assertNull(guard.shortage(15_000));
    usable.set(MIN_FREE - 1);
    assertNotNull(guard.shortage(1));
    usable.set(MIN_FREE);
    assertNull(guard.shortage(1), "freed space is seen at the next write");
    assertNull(
        new DiskGuard("n1", List.of(dir), 0, 0, () -> 0).shortage(Long.MAX_VALUE), "0 = off");
  }

  @Test
  void aFailedApplyIsThrownNotSkipped() throws Exception {
    TransactionContext t = start(entry(new Command.Put("app/a", b("1"), 0, 0)));
    apply(t);
    long appliedBefore = machine.getLastAppliedTermIndex().getIndex();
    List<String> told = new java.util.concurrent.CopyOnWriteArrayList<>();
    machine.addFailureListener(told::add);
    // The engine fails (here: closed under the state machine, as a full disk fails a commit).
    engine.close();
    StoreException e = assertThrows(StoreException.class, () -> apply(t));
    assertTrue(
        e.getMessage().contains("member n1 (test) stopped: applying log entry 2 failed")
            && e.getMessage().contains("restart the member"),
        e.getMessage());
    assertSame(e.getMessage(), machine.failure());
    assertEquals(List.of(e.getMessage()), told, "the listener is told once");
    machine.addFailureListener(told::add);
    assertEquals(2, told.size(), "a late listener is told at once");
    assertEquals(appliedBefore, machine.getLastAppliedTermIndex().getIndex(), "not skipped");
    engine = KvEngine.open(dir.resolve("kv"), EngineOptions.defaults());
  }

  @Test
  void aRaftLogThatCannotBeWrittenStopsTheMemberButAnInterruptedCloseDoesNot() {
    LogEntryProto entry = LogEntryProto.newBuilder().setTerm(1).setIndex(7).build();
    machine.notifyLogFailed(new java.nio.channels.ClosedByInterruptException(), entry);
    assertNull(machine.failure(), "the worker interrupted by a close is no failure");
    List<String> told = new java.util.concurrent.CopyOnWriteArrayList<>();
    machine.addFailureListener(told::add);
    machine.notifyLogFailed(new java.io.IOException("No space left on device"), entry);
    String why = machine.failure();
    assertNotNull(why);
    assertTrue(
        why.startsWith("member n1 (test) stopped: its Raft log could not be written at index 7")
            && why.contains("No space left on device")
            && why.contains("free disk space and restart the member"),
        why);
    assertEquals(List.of(why), told);
  }

  @Test
  void aSnapshotsAppliedIndexIsReadWithoutCopyingIt() throws Exception {
    EngineState state = new EngineState(engine);
    apply(start(entry(new Command.Put("app/a", b("1"), 0, 0))));
    Path file = dir.resolve("snapshot.1_5");
    assertEquals(1, state.snapshotTo(file));
    apply(start(entry(new Command.Put("app/b", b("2"), 0, 0))));
    assertEquals(1, state.snapshotAppliedIndex(file));
    assertEquals(2, state.appliedIndex(), "the data is untouched");
    assertEquals(-1, state.snapshotAppliedIndex(dir.resolve("missing")));
  }
}
