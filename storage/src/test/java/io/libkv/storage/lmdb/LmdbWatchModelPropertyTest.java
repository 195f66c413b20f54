package io.libkv.storage.lmdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.Store;
import io.libkv.store.Watch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Timeout;

/**
 * Random writes while key and tree watches (live, and resumed from index 0) run: every watch ends
 * at the store's final state, indices only grow, and a resumed watch sees every change of its key.
 */
@Timeout(120)
class LmdbWatchModelPropertyTest {
  private static final List<String> KEYS = List.of("a", "a/b", "a/b/c", "a/c", "b");
  private static final Duration WAIT = Duration.ofSeconds(10);

  record Op(int kind, String key, String value) {
    @Override
    public String toString() {
      return switch (kind) {
        case 0 -> "put(" + key + ", " + value + ")";
        case 1 -> "delete(" + key + ")";
        case 2 -> "deleteTree(" + key + ")";
        default -> "putTtlLess(" + key + ")";
      };
    }
  }

  @Provide
  Arbitrary<List<Op>> ops() {
    return Combinators.combine(
            Arbitraries.integers().between(0, 3),
            Arbitraries.of(KEYS),
            Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(2))
        .as(Op::new)
        .list()
        .ofMinSize(1)
        .ofMaxSize(25);
  }

  @Property(tries = 40)
  void watchesEndAtTheFinalStateWithGrowingIndices(@ForAll("ops") List<Op> ops) throws Exception {
    Path dir = Files.createTempDirectory("libkv-watch-model");
    try (Store store =
        LibKV.newStore(
            Backend.LMDB,
            List.of(),
            Config.builder().dataDir(dir).option("lmdb.sync", "false").build())) {
      Map<String, Watch<KVPair>> live = new HashMap<>();
      for (String k : KEYS) {
        live.put(k, store.watch(k));
      }
      Watch<List<KVPair>> tree = store.watchTree("a");
      Map<String, List<KVPair>> changes = new HashMap<>();
      for (Op op : ops) {
        byte[] v = op.value().getBytes(StandardCharsets.UTF_8);
        switch (op.kind()) {
          case 1:
            try {
              store.delete(op.key());
            } catch (KeyNotFoundException absent) {
              // nothing changed
            }
            break;
          case 2:
            store.deleteTree(op.key());
            break;
          default:
            store.put(op.key(), v, null);
            break;
        }
      }
      long last = 0;
      for (String k : KEYS) {
        // Every change of k, from history: the reference for the live watch.
        List<KVPair> all = new ArrayList<>();
        KVPair finalState = store.exists(k) ? store.get(k) : null;
        try (Watch<KVPair> resumed = store.watch(k, 0)) {
          // The replay is queued before watch() returns: drain it without waiting.
          KVPair ev;
          while ((ev = resumed.poll(Duration.ZERO)) != null) {
            if (!all.isEmpty()) {
              assertTrue(ev.lastIndex() > all.get(all.size() - 1).lastIndex(), "resumed order");
            }
            all.add(ev);
          }
        }
        changes.put(k, all);
        if (finalState != null) {
          assertEquals(finalState, all.get(all.size() - 1), "resume ends at the state of " + k);
        } else if (!all.isEmpty()) {
          assertTrue(all.get(all.size() - 1).isDeletion(), "resume ends with the deletion of " + k);
        }
        for (KVPair p : all) {
          last = Math.max(last, p.lastIndex());
        }
        // The live watch: coalescing allowed, but its events are among the real changes, in order,
        // and it ends at the same last change.
        List<KVPair> seen = new ArrayList<>();
        KVPair ev;
        while ((ev = live.get(k).poll(all.isEmpty() ? Duration.ZERO : WAIT)) != null) {
          seen.add(ev);
          if (!all.isEmpty() && ev.equals(all.get(all.size() - 1))) {
            break;
          }
        }
        live.get(k).close();
        for (int i = 1; i < seen.size(); i++) {
          assertTrue(seen.get(i).lastIndex() > seen.get(i - 1).lastIndex(), "live order " + k);
        }
        for (KVPair p : seen) {
          assertTrue(all.contains(p), "live event " + p + " is a real change of " + k);
        }
        if (!all.isEmpty()) {
          assertNotNull(seen.isEmpty() ? null : seen.get(seen.size() - 1), "live watch of " + k);
          assertEquals(all.get(all.size() - 1), seen.get(seen.size() - 1), "live end of " + k);
        }
      }
      // The tree watch ends at list("a"); a last write under it marks the end.
      store.put("a/~end", new byte[0], null);
      List<KVPair> expected = store.list("a");
      List<KVPair> lastList = null;
      List<KVPair> ev;
      while ((ev = tree.poll(WAIT)) != null) {
        lastList = ev;
        if (ev.stream().anyMatch(p -> p.key().equals("a/~end"))) {
          break;
        }
      }
      tree.close();
      assertNotNull(lastList, "tree watch delivered at least its initial list");
      assertEquals(expected.size(), lastList.size(), "tree end state " + lastList);
      for (int i = 0; i < expected.size(); i++) {
        assertEquals(expected.get(i).key(), lastList.get(i).key());
        assertArrayEquals(expected.get(i).value(), lastList.get(i).value());
        assertEquals(expected.get(i).lastIndex(), lastList.get(i).lastIndex());
      }
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      } catch (IOException ignored) {
        // temp dir cleanup is best effort
      }
    }
  }
}
