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
import io.libkv.store.KeyExistsException;
import io.libkv.store.KeyModifiedException;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.Store;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Timeout;

/**
 * Random sequences of writes and reads on the LMDB store, checked step by step against a TreeMap.
 * jqwik shrinks a failure to a minimal sequence and prints the seed that replays it
 * ({@code @Property(seed = "...")}).
 */
@Timeout(120)
class LmdbStoreModelPropertyTest {
  private static final List<String> KEYS = List.of("a", "a/b", "a/b/c", "a/c", "b", "b/a", "ab");

  enum Kind {
    PUT,
    DELETE,
    ATOMIC_CREATE,
    ATOMIC_PUT_CURRENT,
    ATOMIC_PUT_STALE,
    ATOMIC_DELETE_CURRENT,
    ATOMIC_DELETE_STALE,
    DELETE_TREE,
    LIST,
    GET
  }

  record Op(Kind kind, String key, String value) {
    @Override
    public String toString() {
      return kind + "(" + key + (value.isEmpty() ? "" : ", " + value) + ")";
    }
  }

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Op> op =
        Combinators.combine(
                Arbitraries.of(Kind.class),
                Arbitraries.of(KEYS),
                Arbitraries.strings().alpha().ofMaxLength(3))
            .as(Op::new);
    return op.list().ofMinSize(1).ofMaxSize(30);
  }

  @Property(tries = 60)
  void storeMatchesTheModel(@ForAll("ops") List<Op> ops) throws IOException {
    Path dir = Files.createTempDirectory("libkv-model");
    try (Store store =
        LibKV.newStore(
            Backend.LMDB,
            List.of(),
            Config.builder().dataDir(dir).option("lmdb.sync", "false").build())) {
      TreeMap<String, KVPair> model = new TreeMap<>();
      long maxIndex = 0;
      for (Op op : ops) {
        maxIndex = step(store, model, op, maxIndex);
        for (String k : KEYS) {
          KVPair expected = model.get(k);
          if (expected == null) {
            assertTrue(!store.exists(k), "after " + op + ": " + k + " must be absent");
          } else {
            KVPair actual = store.get(k);
            assertEquals(expected, actual, "after " + op + ": " + k);
          }
        }
      }
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  private static long step(Store store, TreeMap<String, KVPair> model, Op op, long maxIndex) {
    String k = op.key();
    byte[] v = op.value().getBytes(StandardCharsets.UTF_8);
    KVPair current = model.get(k);
    switch (op.kind()) {
      case PUT:
        store.put(k, v, null);
        return record(model, store.get(k), v, maxIndex);
      case DELETE:
        if (current == null) {
          assertThrows(KeyNotFoundException.class, () -> store.delete(k));
        } else {
          store.delete(k);
          model.remove(k);
        }
        return maxIndex;
      case ATOMIC_CREATE:
        if (current != null) {
          assertThrows(KeyExistsException.class, () -> store.atomicPut(k, v, null, null));
          return maxIndex;
        }
        return record(model, store.atomicPut(k, v, null, null), v, maxIndex);
      case ATOMIC_PUT_CURRENT:
        if (current == null) {
          KVPair ghost = new KVPair(k, v, Math.max(1, maxIndex));
          assertThrows(KeyNotFoundException.class, () -> store.atomicPut(k, v, ghost, null));
          return maxIndex;
        }
        return record(model, store.atomicPut(k, v, current, null), v, maxIndex);
      case ATOMIC_PUT_STALE:
        if (current == null) {
          KVPair ghost = new KVPair(k, v, Math.max(1, maxIndex));
          assertThrows(KeyNotFoundException.class, () -> store.atomicPut(k, v, ghost, null));
        } else {
          KVPair stale = new KVPair(k, current.value(), current.lastIndex() - 1);
          assertThrows(KeyModifiedException.class, () -> store.atomicPut(k, v, stale, null));
        }
        return maxIndex;
      case ATOMIC_DELETE_CURRENT:
        if (current == null) {
          KVPair ghost = new KVPair(k, v, Math.max(1, maxIndex));
          assertThrows(KeyNotFoundException.class, () -> store.atomicDelete(k, ghost));
        } else {
          assertTrue(store.atomicDelete(k, current));
          model.remove(k);
        }
        return maxIndex;
      case ATOMIC_DELETE_STALE:
        if (current == null) {
          KVPair ghost = new KVPair(k, v, Math.max(1, maxIndex));
          assertThrows(KeyNotFoundException.class, () -> store.atomicDelete(k, ghost));
        } else {
          KVPair stale = new KVPair(k, current.value(), current.lastIndex() + 1);
          assertThrows(KeyModifiedException.class, () -> store.atomicDelete(k, stale));
        }
        return maxIndex;
      case DELETE_TREE:
        store.deleteTree(k);
        model.keySet().removeIf(key -> Keys.isAtOrUnder(key, k));
        return maxIndex;
      case LIST:
        {
          List<KVPair> expected = new ArrayList<>();
          for (Map.Entry<String, KVPair> e : model.entrySet()) {
            if (Keys.isUnder(e.getKey(), k)) {
              expected.add(e.getValue());
            }
          }
          if (expected.isEmpty() && current == null) {
            assertThrows(KeyNotFoundException.class, () -> store.list(k));
          } else {
            assertEquals(expected, store.list(k), "list(" + k + ")");
          }
          return maxIndex;
        }
      case GET:
        if (current == null) {
          assertThrows(KeyNotFoundException.class, () -> store.get(k));
        } else {
          assertEquals(current, store.get(k));
        }
        return maxIndex;
      default:
        throw new AssertionError(op);
    }
  }

  private static long record(TreeMap<String, KVPair> model, KVPair written, byte[] v, long max) {
    assertArrayEquals(v, written.value());
    assertTrue(written.lastIndex() > max, "index " + written.lastIndex() + " after " + max);
    model.put(written.key(), written);
    return written.lastIndex();
  }
}
