package io.libkv.storage.lmdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.spi.Keys;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.Store;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile keys on {@link Backend#LMDB}: path tricks ({@code ..}, {@code .}, {@code //}), control
 * characters and invalid UTF-8 (unpaired surrogates) are refused by every call with the same
 * message {@link Keys#normalize} gives, before anything is written; keys that only differ by
 * leading/trailing slashes name the same key. The stored data is unchanged afterwards.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LmdbHostileKeysTest {
  /** Keys that {@link Keys#normalize} refuses (the conformance suite covers "", "/", "//", NUL). */
  static final List<String> HOSTILE =
      List.of(
          "h/../etc/passwd",
          "h/..",
          "../h",
          "h/./x",
          "./h",
          "h//x",
          "h/x//y/",
          "h/ctl\u0001",
          "h/tab\tx",
          "h/nl\nx",
          "h/cr\rx",
          "h/esc\u001b[2J",
          "h/del\u007f",
          "h/lone-high\ud800",
          "h/lone-low\udc00x",
          "h/reversed\udc00\ud800",
          "\ud83dh");

  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void hostileKeysAreRefusedByEveryCallAsKeysSays() {
    try (Store s = LibKV.newStore(Backend.LMDB, List.of(), Config.builder().dataDir(dir).build())) {
      checkHostileKeys(s);
    }
  }

  /** The check, shared by shape with the embedded backend's test. */
  static void checkHostileKeys(Store s) {
    s.put("h/keep", b("kept"), null);
    KVPair kept = s.get("h/keep");
    for (String bad : HOSTILE) {
      String why =
          assertThrows(IllegalArgumentException.class, () -> Keys.normalize(bad)).getMessage();
      Consumer<Executable> refused =
          call -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, why);
            assertEquals(why, e.getMessage(), "same rule as Keys.normalize for " + why);
          };
      refused.accept(() -> s.put(bad, b("v"), null));
      refused.accept(() -> s.get(bad));
      refused.accept(() -> s.exists(bad));
      refused.accept(() -> s.delete(bad));
      refused.accept(() -> s.atomicPut(bad, b("v"), null, null));
      refused.accept(() -> s.atomicPut(bad, b("v"), kept, null));
      refused.accept(() -> s.atomicDelete(bad, kept));
      refused.accept(() -> s.list(bad));
      refused.accept(() -> s.deleteTree(bad));
      refused.accept(() -> s.watch(bad).close());
      refused.accept(() -> s.watchTree(bad).close());
      refused.accept(() -> s.newLock(bad, null));
    }
    // Nothing was written: the only key under h is the one put first, unchanged.
    List<KVPair> all = s.list("h");
    assertEquals(1, all.size(), all.toString());
    assertEquals("h/keep", all.get(0).key());
    assertArrayEquals(b("kept"), all.get(0).value());
    assertEquals(kept.lastIndex(), all.get(0).lastIndex());

    // Leading/trailing slashes are dropped, as Keys.normalize does: one key, not three.
    s.put("/h/slash/", b("1"), null);
    assertArrayEquals(b("1"), s.get("h/slash").value());
    s.put("h/slash", b("2"), null);
    assertArrayEquals(b("2"), s.get("///h/slash//").value());
    assertEquals(2, s.list("h").size());
    // Valid non-ASCII keys (a paired surrogate: 4 UTF-8 bytes) are kept byte for byte.
    String emoji = "h/\ud83d\ude00/\u00e9t\u00e9";
    s.put(emoji, b("u"), null);
    assertEquals(emoji, s.get(emoji).key());
    assertTrue(s.list("h").stream().anyMatch(p -> p.key().equals(emoji)));
  }
}
