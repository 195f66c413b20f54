package io.libkv.storage.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.KVPair;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class CommandCodecTest {
  private static final String Q = KvEngine.INTERNAL_PREFIX + "lock/k" + KvEngine.INTERNAL_PREFIX;

  static final List<Command> ALL_COMMANDS =
      List.of(
          new Command.Put("a/b", "v".getBytes(StandardCharsets.UTF_8), 0, 0),
          new Command.Put("ü/€/𝄞", new byte[0], 7, 0),
          new Command.CasPut("a", new byte[] {0, 1, (byte) 255}, 42, 0, 1500),
          new Command.CasPut("a", new byte[] {9}, 0, 3, 0),
          new Command.Delete("x"),
          new Command.CasDelete("x", 5),
          new Command.DeleteTree("dir"),
          new Command.LeaseGrant(0, 15_000),
          new Command.LeaseKeepAlive(99),
          new Command.LeaseRevoke(Long.MAX_VALUE),
          new Command.LockEnqueue(Q, 2000),
          new Command.Refused("member n1 is low on disk space"));

  static final List<CommandResult> ALL_RESULTS =
      List.of(
          new CommandResult.Written(17),
          new CommandResult.Deleted(
              List.of(new KVPair("a", new byte[0], 3), new KVPair("b", new byte[] {4}, 5)), 9),
          new CommandResult.Deleted(List.of(), 10),
          new CommandResult.LeaseGranted(11, 2000),
          new CommandResult.LeaseKept(11, 2000),
          new CommandResult.Enqueued(12, Q + "000000000000000c", 12, null),
          new CommandResult.Enqueued(13, Q + "000000000000000d", 13, Q + "000000000000000c"),
          new CommandResult.KeyNotFound("k"),
          new CommandResult.KeyModified("k", 3, 4),
          new CommandResult.KeyExists("k"),
          new CommandResult.PreviousNotSpecified("k"),
          new CommandResult.LeaseNotFound(77),
          new CommandResult.Rejected("key too long"),
          new CommandResult.Failed("store full"),
          new CommandResult.Skipped(100));

  @Test
  void everyCommandRoundTrips() {
    byte[] bytes = CommandCodec.encodeCommands(ALL_COMMANDS);
    assertEquals(CommandCodec.VERSION, bytes[0], "first byte is the version");
    assertEquals(ALL_COMMANDS, CommandCodec.decodeCommands(bytes));
    assertEquals(
        ALL_COMMANDS, CommandCodec.decodeCommands(ByteBuffer.wrap(bytes).asReadOnlyBuffer()));
    ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 3);
    direct.position(3);
    direct.put(bytes);
    direct.position(3);
    assertEquals(ALL_COMMANDS, CommandCodec.decodeCommands(direct));
    for (Command c : ALL_COMMANDS) {
      assertEquals(c, CommandCodec.decodeCommand(CommandCodec.encodeCommand(c)));
    }
  }

  @Test
  void theEncodedLengthIsExactForEveryCommand() {
    int total = CommandCodec.BATCH_HEADER_BYTES;
    for (Command c : ALL_COMMANDS) {
      assertEquals(
          CommandCodec.encodeCommand(c).length - CommandCodec.BATCH_HEADER_BYTES,
          CommandCodec.encodedLength(c),
          c.toString());
      total += CommandCodec.encodedLength(c);
    }
    assertEquals(CommandCodec.encodeCommands(ALL_COMMANDS).length, total);
    Command wide = new Command.Put("k/é/日/\uD83D\uDE00", new byte[300], 0, 0);
    assertEquals(
        CommandCodec.encodeCommand(wide).length - CommandCodec.BATCH_HEADER_BYTES,
        CommandCodec.encodedLength(wide));
  }

  @Test
  void everyResultRoundTrips() {
    byte[] bytes = CommandCodec.encodeResults(ALL_RESULTS);
    assertEquals(ALL_RESULTS, CommandCodec.decodeResults(bytes));
    assertEquals(List.of(), CommandCodec.decodeResults(CommandCodec.encodeResults(List.of())));
  }

  @Test
  void everyTruncationIsRejected() {
    byte[] commands = CommandCodec.encodeCommands(ALL_COMMANDS);
    for (int n = 0; n < commands.length; n++) {
      byte[] cut = Arrays.copyOf(commands, n);
      assertThrows(MalformedCommandException.class, () -> CommandCodec.decodeCommands(cut), "" + n);
    }
    byte[] results = CommandCodec.encodeResults(ALL_RESULTS);
    for (int n = 0; n < results.length; n++) {
      byte[] cut = Arrays.copyOf(results, n);
      assertThrows(MalformedCommandException.class, () -> CommandCodec.decodeResults(cut), "" + n);
    }
  }

  @Test
  void versionKindTrailingBytesAndBadUtf8AreRejectedClearly() {
    byte[] ok = CommandCodec.encodeCommand(new Command.Delete("k"));
    byte[] v2 = ok.clone();
    v2[0] = 2;
    MalformedCommandException e =
        assertThrows(MalformedCommandException.class, () -> CommandCodec.decodeCommands(v2));
    assertTrue(e.getMessage().contains("version 2"), e.getMessage());
    assertThrows(MalformedCommandException.class, () -> CommandCodec.decodeResults(ok));
    byte[] trailing = Arrays.copyOf(ok, ok.length + 1);
    assertThrows(MalformedCommandException.class, () -> CommandCodec.decodeCommands(trailing));
    byte[] badUtf8 = ok.clone();
    badUtf8[badUtf8.length - 1] = (byte) 0xC3; // a lead byte without its continuation
    assertThrows(MalformedCommandException.class, () -> CommandCodec.decodeCommands(badUtf8));
    byte[] hugeCount = ok.clone();
    hugeCount[2] = hugeCount[3] = hugeCount[4] = hugeCount[5] = (byte) 0x7f;
    assertThrows(MalformedCommandException.class, () -> CommandCodec.decodeCommands(hugeCount));
    assertThrows(
        MalformedCommandException.class,
        () -> CommandCodec.decodeCommand(CommandCodec.encodeCommands(List.of())));
  }

  /** Garbage never crashes the decoder: it decodes to a canonical batch or is rejected. */
  @Property(tries = 2000)
  void arbitraryBytesAreDecodedOrRejected(@ForAll @Size(max = 64) byte[] garbage) {
    byte[] withHeader = new byte[garbage.length + 2];
    withHeader[0] = CommandCodec.VERSION;
    withHeader[1] = 'C';
    System.arraycopy(garbage, 0, withHeader, 2, garbage.length);
    for (byte[] input : List.of(garbage, withHeader)) {
      List<Command> decoded;
      try {
        decoded = CommandCodec.decodeCommands(input);
      } catch (MalformedCommandException e) {
        continue;
      }
      assertArrayEquals(input, CommandCodec.encodeCommands(decoded), "canonical encoding");
    }
  }

  /** Flipping any one byte of a valid encoding never crashes the decoder. */
  @Property(tries = 500)
  void corruptedEncodingsAreDecodedOrRejected(
      @ForAll("commands") List<Command> commands, @ForAll int position, @ForAll byte replacement) {
    byte[] bytes = CommandCodec.encodeCommands(commands);
    assertEquals(commands, CommandCodec.decodeCommands(bytes));
    bytes[Math.floorMod(position, bytes.length)] = replacement;
    try {
      CommandCodec.decodeCommands(bytes);
    } catch (MalformedCommandException expected) {
      // rejected clearly: fine
    }
  }

  @Provide
  Arbitrary<List<Command>> commands() {
    Arbitrary<String> keys = Arbitraries.strings().ofMinLength(1).ofMaxLength(20);
    Arbitrary<byte[]> values = Arbitraries.bytes().array(byte[].class).ofMaxSize(20);
    Arbitrary<Long> longs = Arbitraries.longs();
    Arbitrary<Command> one =
        Arbitraries.oneOf(
            Combinators.combine(keys, values, longs, longs).as(Command.Put::new),
            Combinators.combine(keys, values, longs, longs, longs).as(Command.CasPut::new),
            keys.map(Command.Delete::new),
            Combinators.combine(keys, longs).as(Command.CasDelete::new),
            keys.map(Command.DeleteTree::new),
            Combinators.combine(longs, longs).as(Command.LeaseGrant::new),
            longs.map(Command.LeaseKeepAlive::new),
            longs.map(Command.LeaseRevoke::new),
            Combinators.combine(keys, longs).as(Command.LockEnqueue::new),
            keys.map(Command.Refused::new));
    return one.list().ofMaxSize(8);
  }
}
