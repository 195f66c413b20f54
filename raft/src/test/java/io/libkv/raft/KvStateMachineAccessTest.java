package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.storage.engine.ChangeEvent;
import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.CommandResult;
import io.libkv.storage.engine.EngineOptions;
import io.libkv.storage.engine.KvEngine;
import io.libkv.store.PermissionDeniedException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leader's permission checks in {@link KvStateMachine}: what a named caller ({@link
 * Wire#authenticate}) may not do is refused alone, what reaches the log carries no name, the rules
 * change only through an access entry and with the admin permission, and a page of every change
 * holds only the keys the caller may read.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KvStateMachineAccessTest {
  @TempDir Path dir;
  private KvEngine engine;
  private KvStateMachine machine;
  private long index;

  @BeforeEach
  void open() throws Exception {
    Files.createDirectories(dir.resolve("raft"));
    engine = KvEngine.open(dir.resolve("kv"), EngineOptions.builder().historySize(64).build());
    DiskGuard guard = new DiskGuard("n1", List.of(dir.resolve("raft")), 0, 0, () -> 0);
    machine =
        new KvStateMachine(
            new EngineState(engine), l -> {}, index -> {}, guard, "member n1 (test)");
    AccessRules rules =
        AccessRules.NONE
            .grant(new AccessRule("alice", "app/", EnumSet.of(Permission.READ, Permission.WRITE)))
            .grant(new AccessRule("root", "", Set.of(Permission.ADMIN)));
    apply(start(access(rules, 0), null));
  }

  @AfterEach
  void close() throws Exception {
    machine.close();
    engine.close();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static ByteString entry(Command... commands) {
    return Wire.writes(CommandCodec.encodeCommands(List.of(commands))).getContent();
  }

  private static ByteString access(AccessRules rules, long expected) {
    return Wire.accessRules(
            CommandCodec.encodeCommand(new Command.SetAccessRules(rules.encode(), expected)))
        .getContent();
  }

  /** The leader's start of {@code content} sent by {@code identity} ({@code null}: a member). */
  private TransactionContext start(ByteString content, String identity) throws Exception {
    return StateMachineDriver.start(
        machine, identity == null ? content : Wire.authenticate(identity, content));
  }

  private List<CommandResult> apply(TransactionContext trx) throws Exception {
    ByteString logged = trx.getStateMachineLogEntry().getLogData();
    assertTrue(logged.byteAt(0) != Wire.AUTHENTICATED, "the log carries no caller's name");
    return CommandCodec.decodeResults(
        Wire.body(StateMachineDriver.apply(machine, logged, ++index)));
  }

  @Test
  void inABatchOnlyTheRefusedCommandsFailAndEachNamesItsKey() throws Exception {
    List<CommandResult> r =
        apply(
            start(
                entry(
                    new Command.Put("app/a", b("1"), 0, 0),
                    new Command.Put("other/b", b("2"), 0, 0),
                    new Command.DeleteTree("app")),
                "alice"));
    assertInstanceOf(CommandResult.Written.class, r.get(0));
    PermissionDeniedException other =
        assertInstanceOf(PermissionDeniedException.class, r.get(1).toException());
    assertEquals(
        List.of("alice", "other/b", "write"),
        List.of(other.identity(), other.key(), other.permission()));
    PermissionDeniedException tree =
        assertInstanceOf(PermissionDeniedException.class, r.get(2).toException());
    assertEquals("app", tree.key(), "a tree delete also deletes the key named as its directory");
    assertArrayEquals(b("1"), engine.read(v -> v.get("app/a")).value());
    assertNull(engine.read(v -> v.get("other/b")));
  }

  @Test
  void aLoneRefusedCommandNeverReachesTheLog() {
    StateMachineException e =
        assertThrows(
            StateMachineException.class,
            () -> start(entry(new Command.Put("other/b", b("2"), 0, 0)), "alice"));
    PermissionDeniedException back =
        PermissionDeniedException.fromMessage(e.getMessage()).orElseThrow();
    assertEquals("other/b", back.key());
    assertThrows(
        StateMachineException.class,
        () -> start(entry(new Command.LeaseRevoke(7)), "bob"),
        "leases need a write permission somewhere");
  }

  @Test
  void theRulesChangeOnlyInAnAccessEntryAndWithTheAdminPermission() throws Exception {
    long revision = engine.accessRules().revision();
    ByteString none = access(AccessRules.NONE, revision);
    StateMachineException notAdmin =
        assertThrows(StateMachineException.class, () -> start(none, "alice"));
    assertTrue(
        notAdmin.getMessage().contains("'alice' has no admin permission"), notAdmin.getMessage());
    ByteString inAWriteEntry =
        entry(new Command.SetAccessRules(AccessRules.NONE.encode(), revision));
    StateMachineException version =
        assertThrows(StateMachineException.class, () -> start(inAWriteEntry, "root"));
    assertTrue(version.getMessage().contains("version-3 entry"), version.getMessage());
    ByteString garbage =
        Wire.accessRules(
                CommandCodec.encodeCommand(new Command.SetAccessRules(b("junk"), revision)))
            .getContent();
    assertThrows(StateMachineException.class, () -> start(garbage, "root"));
    assertInstanceOf(CommandResult.Written.class, apply(start(none, "root")).get(0));
    assertEquals(0, engine.accessRules().rules().length, "permissions are off again");
  }

  @Test
  void aRequestThatNamesItsCallerTwiceIsRefused() {
    ByteString twice = Wire.authenticate("root", entry(new Command.Put("app/a", b("1"), 0, 0)));
    StateMachineException e =
        assertThrows(StateMachineException.class, () -> start(twice, "alice"));
    assertTrue(e.getMessage().contains("names its caller twice"), e.getMessage());
  }

  @Test
  void aPageOfEveryChangeHoldsOnlyWhatTheCallerMayRead() throws Exception {
    apply(
        start(
            entry(
                new Command.Put("app/a", b("1"), 0, 0),
                new Command.Put("other/b", b("2"), 0, 0),
                new Command.Put("app/c", b("3"), 0, 0)),
            null));
    List<String> alice = changes("alice");
    assertEquals(List.of("app/a", "app/c"), alice);
    assertEquals(List.of("app/a", "other/b", "app/c"), changes(null));
    PermissionDeniedException e =
        assertThrows(
            PermissionDeniedException.class,
            () -> ReadCodec.remoteView(req -> query(req, "alice")).get("other/b"));
    assertEquals("read", e.permission());
  }

  private List<String> changes(String identity) {
    return ReadCodec.remoteView(req -> query(req, identity)).changesAfter(0, 100).changes().stream()
        .map(ChangeEvent::key)
        .toList();
  }

  private byte[] query(byte[] request, String identity) {
    ByteString q = Wire.read(request).getContent();
    try {
      return Wire.body(
          machine
              .query(Message.valueOf(identity == null ? q : Wire.authenticate(identity, q)))
              .get(10, TimeUnit.SECONDS));
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
