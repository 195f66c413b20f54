package io.libkv.storage.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Command.SetAccessRules}: the rules are kept beside the data, replaced only from the
 * revision the change expects, and survive a reopen and a snapshot's restore; they are no key.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AccessRulesCommandTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static EngineOptions small() {
    return EngineOptions.builder().initialMapSizeBytes(1 << 20).build();
  }

  @Test
  void rulesAreReplacedOnlyFromTheExpectedRevisionAndSurviveReopenAndRestore() {
    try (KvEngine e = KvEngine.open(dir.resolve("a"), small())) {
      assertEquals(KvEngine.AccessRules.NONE, e.accessRules());
      List<CommandResult> r =
          e.apply(
              1,
              1,
              List.of(
                  new Command.SetAccessRules(b("first"), 0),
                  new Command.SetAccessRules(b("lost"), 0),
                  new Command.Put("k", b("v"), 0, 0)));
      assertEquals(new CommandResult.Written(1), r.get(0));
      assertEquals(new CommandResult.KeyModified(KvEngine.ACCESS_RULES, 0, 1), r.get(1));
      assertInstanceOf(CommandResult.Written.class, r.get(2));
      assertEquals(1, e.accessRules().revision());
      assertArrayEquals(b("first"), e.accessRules().rules());
      assertEquals(1, e.read(v -> v.listPrefix("")).size(), "the rules are not a key");
      r = e.apply(2, 4, List.of(new Command.SetAccessRules(b("second"), 1)));
      assertEquals(new CommandResult.Written(4), r.get(0));
      e.snapshotTo(dir.resolve("snap"));
      e.apply(3, 5, List.of(new Command.SetAccessRules(new byte[0], 4)));
      assertEquals(0, e.accessRules().rules().length);
      assertEquals(5, e.accessRules().revision());
    }
    try (KvEngine e = KvEngine.open(dir.resolve("a"), small())) {
      assertEquals(5, e.accessRules().revision(), "kept across a reopen");
      e.restoreFrom(dir.resolve("snap"));
      assertEquals(4, e.accessRules().revision(), "restored with the snapshot");
      assertArrayEquals(b("second"), e.accessRules().rules());
      assertNull(e.read(v -> v.get("second")));
    }
  }

  @Test
  void theCommandRoundTripsThroughTheCodec() {
    Command c = new Command.SetAccessRules(b("rules"), 42);
    byte[] encoded = CommandCodec.encodeCommand(c);
    assertEquals(CommandCodec.BATCH_HEADER_BYTES + CommandCodec.encodedLength(c), encoded.length);
    assertEquals(List.of(c), CommandCodec.decodeCommands(encoded));
  }
}
