package io.libkv.store.conformance;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.AsyncStore;
import io.libkv.store.KVPair;
import io.libkv.store.KeyExistsException;
import io.libkv.store.KeyModifiedException;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.PreviousNotSpecifiedException;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.WriteOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * The contract of {@link AsyncStore} as tests: each async write gives what its blocking namesake
 * gives (same pair, same index rules, the same exception class as the future's cause), argument
 * errors are thrown at once with nothing submitted, writes pipelined from one thread apply in call
 * order, and {@link Store#close()} leaves no write pending. A backend whose stores are AsyncStores
 * runs it with one thin subclass, like {@link StoreConformanceSuite}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class AsyncStoreConformanceSuite {

  /** How long any single future may take. */
  protected static final Duration WAIT = Duration.ofSeconds(30);

  /** How many writes the pipelining tests keep in flight from one thread. */
  protected static final int PIPELINED = 400;

  private final List<Store> opened = new CopyOnWriteArrayList<>();
  private AsyncStore store;
  private String root;

  /**
   * Opens a new client of the backend under test (an {@link AsyncStore}); every call during one
   * test class reaches the same data. The suite closes it.
   */
  protected abstract Store openStore();

  /** The value limit of stores from {@link #openStore()} (the contract's default, 1 MiB). */
  protected int maxValueBytes() {
    return 1 << 20;
  }

  /** The store of the current test, opened on first use. */
  protected final AsyncStore store() {
    if (store == null) {
      store = track(openStore());
    }
    return store;
  }

  /** Another client of the same data. */
  protected final AsyncStore otherStore() {
    return track(openStore());
  }

  /** Returns {@code root()/name}: each test has its own key root. */
  protected final String key(String name) {
    return root + "/" + name;
  }

  @BeforeEach
  void setUpRoot(TestInfo info) {
    String method = info.getTestMethod().map(m -> m.getName()).orElse("test");
    root = "libkvasync/" + method + "-" + Long.toHexString(System.nanoTime());
  }

  @AfterEach
  void cleanUp() {
    try {
      if (store != null) {
        store.deleteTree(root);
      }
    } finally {
      for (Store s : opened) {
        s.close();
      }
      opened.clear();
      store = null;
    }
  }

  private AsyncStore track(Store s) {
    assertNotNull(s, "openStore() returned null");
    opened.add(s);
    return assertInstanceOf(AsyncStore.class, s, "the backend's stores implement AsyncStore");
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static <T> T get(CompletableFuture<T> f) {
    return f.orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS).join();
  }

  /** The cause of the future's failure, checking its exact class. */
  private static <E extends Throwable> E failure(Class<E> type, CompletableFuture<?> f) {
    CompletionException e =
        assertThrows(
            CompletionException.class,
            () -> f.orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS).join(),
            "the future fails with " + type.getSimpleName());
    assertNotNull(e.getCause(), "a CompletionException with a cause");
    assertEquals(type, e.getCause().getClass(), "the cause's exact class: " + e.getCause());
    return type.cast(e.getCause());
  }

  /** The blocking call throws exactly {@code type}. */
  private static <E extends Throwable> E thrown(Class<E> type, Executable call) {
    Throwable t = assertThrows(Throwable.class, call);
    assertEquals(type, t.getClass(), "the blocking call throws exactly: " + t);
    return type.cast(t);
  }

  /** Thrown at once by the async call itself, not through its future. */
  private static <E extends Throwable> void atOnce(Class<E> type, Supplier<?> call) {
    Throwable t = assertThrows(Throwable.class, call::get);
    assertEquals(type, t.getClass(), "thrown at once, not through the future: " + t);
  }

  // ---------------------------------------------------------------------------------------------
  // each async call against its blocking namesake
  // ---------------------------------------------------------------------------------------------

  @Test
  void putAsyncGivesTheStoredPairLikePut() {
    KVPair p = get(store().putAsync("/" + key("p") + "/", b("v1"), null));
    assertEquals(key("p"), p.key(), "the normalised key");
    assertArrayEquals(b("v1"), p.value());
    assertTrue(p.lastIndex() > 0, "index > 0: " + p);
    KVPair read = store().get(key("p"));
    assertEquals(p.lastIndex(), read.lastIndex(), "get sees the index the future gave");
    assertArrayEquals(b("v1"), read.value());

    store().put(key("p"), b("v2"), null);
    long blocking = store().get(key("p")).lastIndex();
    assertTrue(blocking > p.lastIndex(), "a later blocking put has a greater index");
    KVPair again = get(store().putAsync(key("p"), new byte[0], WriteOptions.none()));
    assertTrue(again.lastIndex() > blocking, "and a later async put a greater one still");
    assertEquals(0, store().get(key("p")).value().length, "an empty value is stored");
  }

  @Test
  void putAsyncWithTtlStoresTheKeyUntilItExpires() {
    KVPair p = get(store().putAsync(key("ttl"), b("t"), WriteOptions.ttl(Duration.ofMinutes(5))));
    assertArrayEquals(b("t"), store().get(key("ttl")).value());
    assertEquals(p.lastIndex(), store().get(key("ttl")).lastIndex());
  }

  @Test
  void deleteAsyncMatchesDelete() {
    store().put(key("d"), b("x"), null);
    assertNull(get(store().deleteAsync(key("d"))), "completes with null");
    assertFalse(store().exists(key("d")));

    KeyNotFoundException async = failure(KeyNotFoundException.class, store().deleteAsync(key("d")));
    KeyNotFoundException blocking =
        thrown(KeyNotFoundException.class, () -> store().delete(key("d")));
    assertEquals(key("d"), async.key());
    assertEquals(blocking.key(), async.key());
    assertEquals(blocking.getMessage(), async.getMessage());
  }

  @Test
  void atomicPutAsyncMatchesAtomicPut() {
    KVPair created = get(store().atomicPutAsync(key("c"), b("1"), null, null));
    assertEquals(key("c"), created.key());
    assertArrayEquals(b("1"), created.value());
    assertEquals(created.lastIndex(), store().get(key("c")).lastIndex());

    // create-only on an existing key
    KeyExistsException ae =
        failure(KeyExistsException.class, store().atomicPutAsync(key("c"), b("2"), null, null));
    KeyExistsException be =
        thrown(KeyExistsException.class, () -> store().atomicPut(key("c"), b("2"), null, null));
    assertEquals(be.key(), ae.key());

    // compare against the current index
    KVPair second = get(store().atomicPutAsync(key("c"), b("2"), created, null));
    assertTrue(second.lastIndex() > created.lastIndex());
    assertArrayEquals(b("2"), store().get(key("c")).value());

    // compare against a stale index
    KeyModifiedException am =
        failure(
            KeyModifiedException.class, store().atomicPutAsync(key("c"), b("3"), created, null));
    KeyModifiedException bm =
        thrown(
            KeyModifiedException.class, () -> store().atomicPut(key("c"), b("3"), created, null));
    assertEquals(created.lastIndex(), am.expectedIndex());
    assertEquals(second.lastIndex(), am.actualIndex());
    assertEquals(bm.expectedIndex(), am.expectedIndex());
    assertEquals(bm.actualIndex(), am.actualIndex());
    assertArrayEquals(b("2"), store().get(key("c")).value(), "a failed CAS changed nothing");

    // compare against a key that is gone
    store().delete(key("c"));
    KeyNotFoundException an =
        failure(KeyNotFoundException.class, store().atomicPutAsync(key("c"), b("4"), second, null));
    KeyNotFoundException bn =
        thrown(KeyNotFoundException.class, () -> store().atomicPut(key("c"), b("4"), second, null));
    assertEquals(bn.key(), an.key());
    assertFalse(store().exists(key("c")), "a failed CAS created nothing");
  }

  @Test
  void atomicDeleteAsyncMatchesAtomicDelete() {
    KVPair first = store().atomicPut(key("a"), b("1"), null, null);
    KVPair current = store().atomicPut(key("a"), b("2"), first, null);

    KeyModifiedException am =
        failure(KeyModifiedException.class, store().atomicDeleteAsync(key("a"), first));
    KeyModifiedException bm =
        thrown(KeyModifiedException.class, () -> store().atomicDelete(key("a"), first));
    assertEquals(first.lastIndex(), am.expectedIndex());
    assertEquals(current.lastIndex(), am.actualIndex());
    assertEquals(bm.actualIndex(), am.actualIndex());
    assertTrue(store().exists(key("a")), "a failed compare-and-delete deleted nothing");

    assertEquals(Boolean.TRUE, get(store().atomicDeleteAsync(key("a"), current)));
    assertFalse(store().exists(key("a")));

    KeyNotFoundException an =
        failure(KeyNotFoundException.class, store().atomicDeleteAsync(key("a"), current));
    KeyNotFoundException bn =
        thrown(KeyNotFoundException.class, () -> store().atomicDelete(key("a"), current));
    assertEquals(bn.key(), an.key());
  }

  // ---------------------------------------------------------------------------------------------
  // argument errors: at once, nothing submitted
  // ---------------------------------------------------------------------------------------------

  @Test
  void argumentErrorsAreThrownAtOnceAndNothingIsWritten() {
    byte[] tooBig = new byte[maxValueBytes() + 1];
    String tooLong = key("k".repeat(600));
    KVPair some = new KVPair(key("x"), b("x"), 1);
    AsyncStore s = store();
    for (String bad : List.of("", "/", tooLong, key("nul\0key"))) {
      atOnce(IllegalArgumentException.class, () -> s.putAsync(bad, b("v"), null));
      atOnce(IllegalArgumentException.class, () -> s.deleteAsync(bad));
      atOnce(IllegalArgumentException.class, () -> s.atomicPutAsync(bad, b("v"), null, null));
      atOnce(IllegalArgumentException.class, () -> s.atomicDeleteAsync(bad, some));
      thrown(IllegalArgumentException.class, () -> s.put(bad, b("v"), null));
    }
    atOnce(IllegalArgumentException.class, () -> s.putAsync(key("big"), tooBig, null));
    atOnce(IllegalArgumentException.class, () -> s.atomicPutAsync(key("big"), tooBig, null, null));
    thrown(IllegalArgumentException.class, () -> s.put(key("big"), tooBig, null));
    atOnce(PreviousNotSpecifiedException.class, () -> s.atomicDeleteAsync(key("x"), null));
    thrown(PreviousNotSpecifiedException.class, () -> s.atomicDelete(key("x"), null));

    // A write after them all is the first thing under the root.
    get(s.putAsync(key("after"), b("ok"), null));
    List<String> keys = s.list(root).stream().map(KVPair::key).toList();
    assertEquals(List.of(key("after")), keys, "nothing was written by the refused calls");
  }

  // ---------------------------------------------------------------------------------------------
  // order
  // ---------------------------------------------------------------------------------------------

  @Test
  void pipelinedWritesFromOneThreadApplyInCallOrder() {
    AsyncStore s = store();
    List<CompletableFuture<KVPair>> futures = new ArrayList<>(PIPELINED);
    for (int i = 0; i < PIPELINED; i++) {
      // Two keys interleaved: the index is cluster-wide, so order shows across keys too.
      futures.add(s.putAsync(key(i % 2 == 0 ? "even" : "odd"), b(Integer.toString(i)), null));
    }
    long previous = 0;
    for (int i = 0; i < PIPELINED; i++) {
      KVPair p = get(futures.get(i));
      assertArrayEquals(b(Integer.toString(i)), p.value(), "the future of write " + i);
      assertTrue(
          p.lastIndex() > previous,
          "write "
              + i
              + " has index "
              + p.lastIndex()
              + ", not above its predecessor's "
              + previous);
      previous = p.lastIndex();
    }
    KVPair even = s.get(key("even"));
    KVPair odd = s.get(key("odd"));
    assertArrayEquals(b(Integer.toString(PIPELINED - 2)), even.value(), "the last write wins");
    assertArrayEquals(b(Integer.toString(PIPELINED - 1)), odd.value(), "the last write wins");
    assertEquals(get(futures.get(PIPELINED - 2)).lastIndex(), even.lastIndex());
    assertEquals(get(futures.get(PIPELINED - 1)).lastIndex(), odd.lastIndex());
  }

  @Test
  void pipelinedMixOfCallsAppliesInCallOrder() {
    AsyncStore s = store();
    String k = key("mix");
    List<CompletableFuture<?>> futures = new ArrayList<>();
    List<CompletableFuture<KVPair>> puts = new ArrayList<>();
    int rounds = PIPELINED / 4;
    for (int i = 0; i < rounds; i++) {
      // create, overwrite, delete: each call is only valid if the one before it applied first.
      CompletableFuture<KVPair> created = s.atomicPutAsync(k, b("c" + i), null, null);
      CompletableFuture<KVPair> put = s.putAsync(k, b("p" + i), null);
      futures.add(created);
      futures.add(put);
      futures.add(s.deleteAsync(k));
      puts.add(created);
      puts.add(put);
    }
    CompletableFuture<KVPair> last = s.putAsync(k, b("last"), null);
    for (int i = 0; i < futures.size(); i++) {
      CompletableFuture<?> f = futures.get(i);
      try {
        get(f);
      } catch (CompletionException e) {
        throw new AssertionError("call " + i + " of the pipeline failed: " + e.getCause(), e);
      }
    }
    long previous = 0;
    for (CompletableFuture<KVPair> f : puts) {
      long idx = get(f).lastIndex();
      assertTrue(idx > previous, "indices follow call order: " + idx + " after " + previous);
      previous = idx;
    }
    KVPair end = get(last);
    assertTrue(end.lastIndex() > previous);
    assertArrayEquals(b("last"), s.get(k).value());
    assertEquals(end.lastIndex(), s.get(k).lastIndex());
  }

  @Test
  void blockingCallsAfterPipelinedOnesSeeThem() {
    AsyncStore s = store();
    CompletableFuture<KVPair> f = null;
    for (int i = 0; i < 50; i++) {
      f = s.putAsync(key("seq"), b(Integer.toString(i)), null);
    }
    s.put(key("seq"), b("blocking"), null);
    assertTrue(f.isDone(), "an earlier async write is done when a later blocking one returns");
    assertTrue(get(f).lastIndex() < s.get(key("seq")).lastIndex());
    assertArrayEquals(b("blocking"), s.get(key("seq")).value());
  }

  // ---------------------------------------------------------------------------------------------
  // close
  // ---------------------------------------------------------------------------------------------

  @Test
  void closeLeavesNoWritePending() {
    AsyncStore other = otherStore();
    List<CompletableFuture<KVPair>> futures = new ArrayList<>();
    for (int i = 0; i < PIPELINED; i++) {
      futures.add(other.putAsync(key("closing"), b(Integer.toString(i)), null));
    }
    other.close();
    int failed = 0;
    for (CompletableFuture<KVPair> f : futures) {
      assertTrue(f.isDone(), "every write is done or failed once close() returns");
      if (f.isCompletedExceptionally()) {
        failed++;
        CompletionException e = assertThrows(CompletionException.class, f::join);
        assertInstanceOf(StoreException.class, e.getCause(), "a pending write fails with");
      } else {
        assertTrue(f.join().lastIndex() > 0);
      }
    }
    System.out.println(
        getClass().getSimpleName() + ": close() failed " + failed + " of " + PIPELINED + " writes");
    // After close the calls fail through the future; arguments are still checked at once.
    for (CompletableFuture<?> late :
        List.of(other.putAsync(key("late"), b("x"), null), other.deleteAsync(key("late")))) {
      CompletionException e =
          assertThrows(
              CompletionException.class,
              () -> late.orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS).join());
      assertInstanceOf(StoreException.class, e.getCause(), "a call after close fails with");
    }
    atOnce(IllegalArgumentException.class, () -> other.putAsync("", b("x"), null));
    assertThrows(StoreException.class, () -> other.put(key("late"), b("x"), null));
    assertFalse(store().exists(key("late")), "nothing written after close");
  }
}
