package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.CommandResult;
import io.libkv.storage.engine.EngineOptions;
import io.libkv.storage.engine.KvEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.statemachine.TransactionContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The apply path of a member with log entries as Ratis logs them (client id and call id beside the
 * payload, the sender's floor inside it): the jepsen-lite soak's duplicate, a put's request applied
 * a second time 120 s after it was acknowledged, over newer writes, is not applied now; entries
 * without a floor (version 1, or a client without an id) apply as before.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ExactlyOnceApplyTest {
  private static final ClientId CLIENT = ClientId.randomId();

  @TempDir Path dir;
  private KvEngine engine;
  private KvStateMachine machine;
  private long index;

  @BeforeEach
  void open() {
    engine = KvEngine.open(dir, EngineOptions.defaults());
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

  private Message apply(ClientId client, long callId, Message entry) throws Exception {
    index++;
    StateMachineLogEntryProto.Builder logged =
        StateMachineLogEntryProto.newBuilder().setLogData(entry.getContent()).setCallId(callId);
    if (client != null) {
      logged.setClientId(client.toByteString());
    }
    LogEntryProto e =
        LogEntryProto.newBuilder()
            .setTerm(1)
            .setIndex(index)
            .setStateMachineLogEntry(logged)
            .build();
    TransactionContext trx =
        TransactionContext.newBuilder()
            .setStateMachine(machine)
            .setServerRole(RaftPeerRole.FOLLOWER)
            .setLogEntry(e)
            .build();
    return machine.applyTransaction(trx).get(10, TimeUnit.SECONDS);
  }

  private static Message put(String key, String value, long floor) {
    return Wire.writes(
        CommandCodec.encodeCommands(List.of(new Command.Put(key, b(value), 0, 0))), floor);
  }

  private String value(String key) {
    return new String(engine.read(v -> v.get(key)).value(), StandardCharsets.UTF_8);
  }

  @Test
  void aCopyArrivingAfterItsClientMovedOnIsNotApplied() throws Exception {
    apply(CLIENT, 3579, put("reg/4", "old", 3579));
    apply(CLIENT, 3600, put("reg/4", "newer", 3600));
    Message late = apply(CLIENT, 3579, put("reg/4", "old", 3579));
    assertEquals("newer", value("reg/4"), "the late copy overwrote a newer acknowledged write");
    List<CommandResult> results = CommandCodec.decodeResults(Wire.body(late));
    assertTrue(results.get(0) instanceof CommandResult.Skipped, "" + results);
    assertEquals(index, engine.appliedIndex(), "the applied index moves past the copy");
  }

  @Test
  void callsStillAwaitedApplyInAnyOrder() throws Exception {
    // Calls 10 and 11 in flight: 11 (floor 10) reaches the log first.
    apply(CLIENT, 11, put("a", "11", 10));
    apply(CLIENT, 10, put("b", "10", 10));
    assertEquals("11", value("a"));
    assertEquals("10", value("b"));
  }

  @Test
  void entriesWithoutAFloorApplyAsBefore() throws Exception {
    apply(CLIENT, 50, put("k", "new", 50));
    // Version 1 (no floor), and a request without a client id: no session applies.
    apply(
        CLIENT,
        7,
        Wire.writes(
            CommandCodec.encodeCommands(List.of(new Command.Put("k", b("v1-entry"), 0, 0)))));
    assertEquals("v1-entry", value("k"));
    apply(null, 7, put("k", "no-client", 7));
    assertArrayEquals(b("no-client"), engine.read(v -> v.get("k")).value());
  }

  @Test
  void anEntryWhoseFloorIsAboveItsCallIsMalformedOnEveryReplica() throws Exception {
    Message reply = apply(CLIENT, 5, put("k", "v", 6));
    assertTrue(reply.getContent().byteAt(0) == Wire.STATUS_MALFORMED, "not refused as malformed");
    assertTrue(engine.read(v -> v.get("k")) == null, "a malformed entry wrote");
    assertEquals(0, engine.appliedIndex(), "a malformed entry changes nothing");
  }
}
