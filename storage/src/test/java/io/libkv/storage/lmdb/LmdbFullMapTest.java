package io.libkv.storage.lmdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full store on {@link Backend#LMDB}: with the map capped ({@code lmdb.maxMapSize}), writes that
 * add data fail with a {@link StoreException} saying the store is full and naming the limit; reads,
 * lists and watches keep working; nothing stored before is damaged (also after a reopen); and once
 * keys are deleted (LMDB reuses the freed pages), writes succeed again.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LmdbFullMapTest {
  private static final long LIMIT = 1L << 20;

  @TempDir Path dir;

  private Store open() {
    Config c =
        Config.builder()
            .dataDir(dir)
            .option("lmdb.mapSize", String.valueOf(LIMIT))
            .option("lmdb.maxMapSize", String.valueOf(LIMIT))
            .option("lmdb.historySize", "16")
            .build();
    return LibKV.newStore(Backend.LMDB, List.of(), c);
  }

  private static byte[] value(int i) {
    byte[] v = new byte[8 << 10];
    Arrays.fill(v, (byte) i);
    v[0] = (byte) (i >> 8);
    return v;
  }

  private static void assertFull(StoreException e) {
    String m = e.getMessage();
    assertTrue(m.contains("is full"), "says the store is full: " + m);
    assertTrue(m.contains(String.valueOf(LIMIT)), "names the limit: " + m);
    assertTrue(m.contains("lmdb.maxMapSize"), "names the option: " + m);
  }

  @Test
  void fullMapRefusesWritesKeepsDataAndRecoversAfterDeletes() throws Exception {
    Map<String, byte[]> stored = new LinkedHashMap<>();
    try (Store s = open()) {
      // Fill until writes fail steadily (a failure can be transient: pages freed by history
      // trimming become reusable once no reader holds the older snapshot).
      StoreException full = null;
      int failures = 0;
      int consecutive = 0;
      for (int i = 0; i < 1000 && consecutive < 5; i++) {
        String k = "full/k" + i;
        try {
          s.put(k, value(i), null);
          stored.put(k, value(i));
          consecutive = 0;
        } catch (StoreException e) {
          full = e;
          failures++;
          consecutive++;
          assertFull(e);
          // The refused write left nothing behind.
          assertThrows(KeyNotFoundException.class, () -> s.get(k));
        }
      }
      assertNotNull(full, "1000 puts of 8 KiB fit in a map capped at 1 MiB");
      assertEquals(5, consecutive, "writes did not fail steadily: " + failures + " failures");
      assertTrue(stored.size() > 10, "only " + stored.size() + " puts before full");

      // A refused compare-and-set leaves the key as it was.
      String first = stored.keySet().iterator().next();
      KVPair before = s.get(first);
      try {
        s.atomicPut(first, value(2), before, null);
        stored.put(first, value(2));
      } catch (StoreException e) {
        assertFull(e);
        assertEquals(before.lastIndex(), s.get(first).lastIndex(), "a refused CAS changed it");
      }

      // Reads, lists and watches keep working, and every stored byte is intact.
      checkIntact(s, stored);
      try (Watch<KVPair> w = s.watch(first)) {
        KVPair current = w.poll(Duration.ofSeconds(10));
        assertNotNull(current, "a watch on a full store delivers the current pair");
        assertArrayEquals(stored.get(first), current.value());
      }

      // Deleting frees pages: writes succeed again.
      List<String> keys = new ArrayList<>(stored.keySet());
      for (int i = 0; i < keys.size(); i += 2) {
        s.delete(keys.get(i));
        stored.remove(keys.get(i));
      }
      for (int i = 0; i < 5; i++) {
        String k = "full/again" + i;
        s.put(k, value(500 + i), null);
        stored.put(k, value(500 + i));
      }
      checkIntact(s, stored);
    }
    // The files reopen cleanly with everything in them.
    try (Store s = open()) {
      checkIntact(s, stored);
      s.put("full/after-reopen", value(7), null);
      assertTrue(s.exists("full/after-reopen"));
    }
  }

  private static void checkIntact(Store s, Map<String, byte[]> stored) {
    List<KVPair> all = s.list("full");
    assertEquals(stored.size(), all.size());
    for (KVPair p : all) {
      byte[] expected = stored.get(p.key());
      assertNotNull(expected, "unexpected key " + p.key());
      assertArrayEquals(expected, p.value(), "damaged " + p.key());
      assertArrayEquals(expected, s.get(p.key()).value(), "damaged " + p.key());
    }
    assertFalse(all.isEmpty());
  }

  @Test
  void capBelowTheInitialMapIsRefusedClearly() {
    Config c =
        Config.builder()
            .dataDir(dir)
            .option("lmdb.mapSize", String.valueOf(LIMIT * 2))
            .option("lmdb.maxMapSize", String.valueOf(LIMIT))
            .build();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> LibKV.newStore(Backend.LMDB, List.of(), c));
    assertTrue(e.getMessage().contains(String.valueOf(LIMIT)), e.getMessage());
  }
}
