package io.libkv.storage.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.spi.Keys;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.Store;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests over the size limits, and hostile keys, are refused by {@link EngineStore} before they
 * reach its {@link CommandSubmitter}: for {@code Backend.EMBEDDED} (member and client-only stores
 * both use EngineStore) the submitter is the Raft log, so nothing of such a request is ever
 * proposed, replicated or applied. The submitter here applies what it gets to a real engine and
 * records it.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EngineStoreRefusesBeforeSubmitTest {
  private static final int MAX_VALUE = 4096;

  @TempDir Path dir;

  @Test
  void oversizedAndHostileRequestsNeverReachTheSubmitter() {
    KvEngine engine = KvEngine.open(dir, EngineOptions.defaults());
    WatchHub hub = new WatchHub(engine, "refuse-test");
    List<Command> submitted = new CopyOnWriteArrayList<>();
    CommandSubmitter recording =
        command -> {
          submitted.add(command);
          long rev = engine.lastRevision() + 1;
          return CompletableFuture.completedFuture(engine.apply(rev, rev, List.of(command)).get(0));
        };
    Config config = Config.builder().maxValueBytes(MAX_VALUE).build();
    try (Store s = new EngineStore("refuse-test", recording, engine, hub, config, closed -> {})) {
      s.put("ok/at-limit", new byte[MAX_VALUE], null);
      KVPair kept = s.get("ok/at-limit");
      int before = submitted.size();
      assertEquals(1, before);

      byte[] tooBig = new byte[MAX_VALUE + 1];
      String longKey = "k".repeat(Keys.MAX_KEY_BYTES + 1);
      List<Executable> refused =
          List.of(
              () -> s.put("ok/big", tooBig, null),
              () -> s.atomicPut("ok/big", tooBig, null, null),
              () -> s.atomicPut("ok/at-limit", tooBig, kept, null),
              () -> s.put(longKey, new byte[1], null),
              () -> s.atomicPut(longKey, new byte[1], null, null),
              () -> s.delete(longKey),
              () -> s.deleteTree(longKey),
              () -> s.put("a/../b", new byte[1], null),
              () -> s.put("a//b", new byte[1], null),
              () -> s.put("ctl\u0007", new byte[1], null),
              () -> s.put("bad\ud800", new byte[1], null),
              () -> s.delete("a/./b"),
              () -> s.deleteTree("a//b"),
              () -> s.atomicDelete("x/..", kept),
              () -> s.newLock("lock/../x", null).lock());
      for (int i = 0; i < refused.size(); i++) {
        IllegalArgumentException e =
            assertThrows(IllegalArgumentException.class, refused.get(i), "call #" + i);
        assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
      }
      IllegalArgumentException big =
          assertThrows(IllegalArgumentException.class, () -> s.put("ok/big", tooBig, null));
      assertTrue(big.getMessage().contains(String.valueOf(MAX_VALUE)), big.getMessage());

      assertEquals(before, submitted.size(), "refused requests were submitted: " + submitted);
      assertArrayEquals(new byte[MAX_VALUE], s.get("ok/at-limit").value());
      assertEquals(kept.lastIndex(), s.get("ok/at-limit").lastIndex());
    } finally {
      hub.close();
      engine.close();
    }
  }
}
