package io.libkv.storage.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.libkv.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Command.Refused}, what a Raft leader puts in the log in place of a write it refused: it
 * fails with its reason, changes nothing, and the other commands of the batch apply.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RefusedCommandTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aRefusedCommandFailsWithItsReasonAndTheRestOfTheBatchApplies() {
    try (KvEngine e =
        KvEngine.open(dir, EngineOptions.builder().initialMapSizeBytes(1 << 20).build())) {
      e.apply(1, 1, List.of(new Command.Put("a", b("1"), 0, 0)));
      List<CommandResult> r =
          e.apply(
              2,
              2,
              List.of(
                  new Command.Refused("member n1 is low on disk space"),
                  new Command.Delete("a"),
                  new Command.Put("b", b("2"), 0, 0)));
      assertEquals(new CommandResult.Failed("member n1 is low on disk space"), r.get(0));
      StoreException x = assertInstanceOf(StoreException.class, r.get(0).toException());
      assertEquals("member n1 is low on disk space", x.getMessage());
      assertInstanceOf(CommandResult.Deleted.class, r.get(1));
      assertInstanceOf(CommandResult.Written.class, r.get(2));
      assertNull(e.read(v -> v.get("a")));
      assertArrayEquals(b("2"), e.read(v -> v.get("b")).value());
      assertEquals(
          4, e.read(v -> v.get("b")).modRevision(), "command k of the batch has revision 2 + k");
      assertEquals(2, e.appliedIndex());
    }
  }
}
