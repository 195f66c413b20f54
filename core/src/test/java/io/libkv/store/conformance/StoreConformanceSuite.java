package io.libkv.store.conformance;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.libkv.spi.Keys;
import io.libkv.store.CallNotSupportedException;
import io.libkv.store.CannotLockException;
import io.libkv.store.HeldLock;
import io.libkv.store.KVPair;
import io.libkv.store.KeyExistsException;
import io.libkv.store.KeyModifiedException;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.PreviousNotSpecifiedException;
import io.libkv.store.Store;
import io.libkv.store.Watch;
import io.libkv.store.WatchClosedException;
import io.libkv.store.WriteOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * The contract of {@code docs/CONTRACT.md} as tests: the whole test suite of Go libkv's {@code
 * testutils} (ported, with exact assertions) plus what the contract adds. Every backend runs it by
 * subclassing once and implementing {@link #openStore()}.
 *
 * <p>Each test works under its own key root, so the suite can run against a server that keeps data
 * between tests. Stores opened through {@link #store()} or {@link #otherStore()} are closed after
 * each test. A backend that cannot honour a call declares it in {@link #gaps()}; for a declared gap
 * the suite checks that the call throws {@link CallNotSupportedException} instead of faking it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class StoreConformanceSuite {

  /** Calls a backend may declare it cannot honour; each one must be in the README support table. */
  public enum Gap {
    /** {@code watch(key, afterIndex)}: no history to replay every change from. */
    WATCH_RESUME,
    /** {@code put} with a TTL as short as {@link #shortTtl()}. */
    PUT_TTL,
  }

  /** How long to wait for an event that must come. */
  protected static final Duration EVENT_WAIT = Duration.ofSeconds(15);

  /** How long to wait to be fairly sure that an event that must not come does not. */
  protected static final Duration QUIET_WAIT = Duration.ofMillis(500);

  private static final String SUITE_THREAD_PREFIX = "conformance-suite-";

  private final List<Store> opened = new CopyOnWriteArrayList<>();
  private ExecutorService pool;
  private Store store;
  private String root;

  /**
   * Opens a new client of the backend under test. Every call during one test class must reach the
   * same data (two clients of one cluster or one data directory). The suite closes it.
   */
  protected abstract Store openStore();

  /** The calls this backend cannot honour; empty by default. */
  protected Set<Gap> gaps() {
    return EnumSet.noneOf(Gap.class);
  }

  /** The TTL used by the TTL and lock-expiry tests; a backend with coarser resolution overrides. */
  protected Duration shortTtl() {
    return Duration.ofSeconds(2);
  }

  /**
   * Whether {@code thread} belongs to the backend as a whole (a server, a cluster, a shared timer)
   * rather than to one store, so it may outlive {@link Store#close()}.
   */
  protected boolean isSharedThread(Thread thread) {
    return false;
  }

  /** The store of the current test, opened on first use. */
  protected final Store store() {
    if (store == null) {
      store = track(openStore());
    }
    return store;
  }

  /** Another client of the same data, as libkv's tests use for locks. */
  protected final Store otherStore() {
    return track(openStore());
  }

  /** The current test's key root, without a trailing slash. */
  protected final String root() {
    return root;
  }

  /** Returns {@code root()/name}. */
  protected final String key(String name) {
    return root + "/" + name;
  }

  @BeforeEach
  void setUpRoot(TestInfo info) {
    String method = info.getTestMethod().map(m -> m.getName()).orElse("test");
    root = "libkvtest/" + method + "-" + Long.toHexString(System.nanoTime());
    AtomicLong ids = new AtomicLong();
    pool =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, SUITE_THREAD_PREFIX + ids.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  @AfterEach
  void cleanUp() throws InterruptedException {
    pool.shutdownNow();
    assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "test threads did not stop");
    try {
      if (store != null && !opened.isEmpty()) {
        // libkv's RunCleanup: leave nothing behind on a shared server.
        Store cleaner = store;
        cleaner.deleteTree(root);
        assertFalse(cleaner.exists(root), "deleteTree(root) left the root behind");
      }
    } finally {
      for (Store s : opened) {
        s.close();
      }
      opened.clear();
      store = null;
    }
  }

  private Store track(Store s) {
    assertNotNull(s, "openStore() returned null");
    opened.add(s);
    return s;
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  // ---------------------------------------------------------------------------------------------
  // libkv testutils: put/get/delete/exists
  // ---------------------------------------------------------------------------------------------

  @Test
  void getMissingKeyThrowsKeyNotFound() {
    KeyNotFoundException e =
        assertThrows(KeyNotFoundException.class, () -> store().get(key("not_exist_key")));
    assertEquals(key("not_exist_key"), e.key());
    assertFalse(store().exists(key("not_exist_key")));
  }

  @Test
  void putGetDeleteExistsWithAndWithoutSlashes() {
    byte[] value = b("bar");
    String base = key("testPutGetDeleteExists");
    for (String k :
        List.of(base, base + "/", "/" + base + "/testbar/", base + "/testbar/testfoobar")) {
      String normalized = Keys.normalize(k);
      store().put(k, value, null);
      KVPair pair = store().get(k);
      assertEquals(normalized, pair.key(), "get returns the normalised key for " + k);
      assertArrayEquals(value, pair.value());
      assertTrue(pair.lastIndex() > 0, "lastIndex > 0");
      assertTrue(store().exists(k));
      store().delete(k);
      assertThrows(KeyNotFoundException.class, () -> store().get(k));
      assertFalse(store().exists(k));
    }
  }

  @Test
  void leadingAndTrailingSlashesNameTheSameKey() {
    store().put("/" + key("a/b") + "/", b("v"), null);
    assertEquals(b("v").length, store().get(key("a/b")).value().length);
    assertArrayEquals(b("v"), store().get(key("a/b") + "/").value());
    assertArrayEquals(b("v"), store().get("/" + key("a/b")).value());
  }

  @Test
  void putCreatesMissingParents() {
    store().put(key("p/q/r/s"), b("deep"), null);
    assertArrayEquals(b("deep"), store().get(key("p/q/r/s")).value());
    List<KVPair> listed = store().list(key("p"));
    assertEquals(
        List.of(key("p/q/r/s")),
        listed.stream().filter(p -> p.value().length > 0).map(KVPair::key).toList(),
        "the only pair with a value under p is the one written");
  }

  @Test
  void emptyValueIsStoredAndDistinctFromMissing() {
    store().put(key("empty"), new byte[0], null);
    KVPair p = store().get(key("empty"));
    assertNotNull(p.value());
    assertEquals(0, p.value().length);
    assertTrue(store().exists(key("empty")));
  }

  @Test
  void deleteMissingKeyThrowsKeyNotFound() {
    assertThrows(KeyNotFoundException.class, () -> store().delete(key("nothing")));
  }

  @Test
  void deleteRemovesOnlyTheKeyNotItsChildren() {
    store().put(key("d"), b("parent"), null);
    store().put(key("d/child"), b("c"), null);
    store().delete(key("d"));
    assertFalse(store().exists(key("d")));
    assertArrayEquals(b("c"), store().get(key("d/child")).value());
  }

  @Test
  void lastIndexGrowsStrictlyWithEveryWriteAndAcrossKeys() {
    store().put(key("i"), b("1"), null);
    long first = store().get(key("i")).lastIndex();
    store().put(key("i"), b("2"), null);
    long second = store().get(key("i")).lastIndex();
    assertTrue(second > first, "second write " + second + " > first " + first);
    store().put(key("j"), b("x"), null);
    long other = store().get(key("j")).lastIndex();
    assertTrue(other > second, "index is cluster-wide: " + other + " > " + second);
    store().put(key("i"), b("3"), null);
    assertTrue(store().get(key("i")).lastIndex() > other);
  }

  @Test
  void valuesRoundTripEveryByte() {
    byte[] all = new byte[256];
    for (int i = 0; i < all.length; i++) {
      all[i] = (byte) i;
    }
    store().put(key("bin"), all, null);
    assertArrayEquals(all, store().get(key("bin")).value());
    String unicode = key("ключ/鍵/🔑");
    store().put(unicode, b("u"), null);
    assertEquals(Keys.normalize(unicode), store().get(unicode).key());
  }

  @Test
  void writesFromOneClientAreSeenByAnother() {
    store().put(key("shared"), b("one"), null);
    Store other = otherStore();
    assertArrayEquals(b("one"), other.get(key("shared")).value());
    other.put(key("shared"), b("two"), null);
    assertArrayEquals(b("two"), store().get(key("shared")).value());
  }

  // ---------------------------------------------------------------------------------------------
  // Argument limits: clear errors, stored data unchanged
  // ---------------------------------------------------------------------------------------------

  @Test
  void invalidKeysAreRefusedWithoutChangingData() {
    store().put(key("keep"), b("kept"), null);
    long index = store().get(key("keep")).lastIndex();
    String tooLong = key("x".repeat(Keys.MAX_KEY_BYTES));
    for (String bad : List.of("", "/", "//", key("nul\u0000char"), tooLong)) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> store().put(bad, b("v"), null),
              "put of " + bad.length() + "-char key");
      assertNotNull(e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> store().get(bad));
      assertThrows(
          IllegalArgumentException.class, () -> store().atomicPut(bad, b("v"), null, null));
    }
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> store().put(tooLong, b("v"), null));
    assertTrue(e.getMessage().contains(String.valueOf(Keys.MAX_KEY_BYTES)), e.getMessage());
    assertThrows(NullPointerException.class, () -> store().put(null, b("v"), null));
    assertThrows(NullPointerException.class, () -> store().put(key("k"), null, null));
    KVPair kept = store().get(key("keep"));
    assertArrayEquals(b("kept"), kept.value());
    assertEquals(index, kept.lastIndex());
  }

  @Test
  void keyOfExactlyTheLimitIsAccepted() {
    String prefix = key("");
    String k = prefix + "k".repeat(Keys.MAX_KEY_BYTES - Keys.utf8Length(prefix));
    assertEquals(Keys.MAX_KEY_BYTES, Keys.utf8Length(k));
    store().put(k, b("v"), null);
    assertArrayEquals(b("v"), store().get(k).value());
  }

  @Test
  void valueOverTheLimitIsRefusedWithoutChangingData() {
    store().put(key("big"), b("small"), null);
    byte[] tooBig = new byte[(1 << 20) + 1];
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> store().put(key("big"), tooBig, null));
    assertTrue(e.getMessage().contains("1048576"), "names the limit: " + e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> store().atomicPut(key("big"), tooBig, store().get(key("big")), null));
    assertArrayEquals(b("small"), store().get(key("big")).value());
  }

  // ---------------------------------------------------------------------------------------------
  // libkv testutils: list, deleteTree
  // ---------------------------------------------------------------------------------------------

  /**
   * Keys sort by code point (UTF-8 byte order) on every backend, which differs from Java's {@code
   * String} order for a character beyond U+FFFF against one in U+E000..U+FFFF.
   */
  @Test
  void listSortsKeysByCodePoint() {
    String dir = key("testListOrder");
    String privateUse = dir + "/\uE000";
    String emoji = dir + "/\uD83D\uDE00"; // U+1F600
    String ascii = dir + "/z";
    store().put(emoji, b("emoji"), null);
    store().put(privateUse, b("private use"), null);
    store().put(ascii, b("ascii"), null);
    assertEquals(
        List.of(ascii, privateUse, emoji), store().list(dir).stream().map(KVPair::key).toList());
  }

  @Test
  void listReturnsEveryDescendantSortedWithFullKeys() {
    String parent = key("testList");
    store().put(parent, b("parent"), null);
    store().put(parent + "/c2", b("2"), null);
    store().put(parent + "/c1", b("1"), null);
    store().put(parent + "/c1/grand", b("g"), null);
    store().put(key("testListOther"), b("not a child"), null);
    for (String dir : List.of(parent, parent + "/", "/" + parent)) {
      List<KVPair> pairs = store().list(dir);
      assertEquals(
          List.of(parent + "/c1", parent + "/c1/grand", parent + "/c2"),
          pairs.stream().map(KVPair::key).toList(),
          "list(" + dir + ")");
      assertArrayEquals(b("1"), pairs.get(0).value());
      assertArrayEquals(b("g"), pairs.get(1).value());
      assertArrayEquals(b("2"), pairs.get(2).value());
      for (KVPair p : pairs) {
        assertTrue(p.lastIndex() > 0);
      }
    }
  }

  @Test
  void listOfKeyWithoutChildrenIsEmpty() {
    store().put(key("leaf"), b("v"), null);
    assertEquals(List.of(), store().list(key("leaf")));
  }

  @Test
  void listOfMissingDirectoryThrowsKeyNotFound() {
    assertThrows(KeyNotFoundException.class, () -> store().list(key("nothing/here")));
  }

  @Test
  void listOfDirectoryWithOnlyChildren() {
    store().put(key("onlykids/a"), b("a"), null);
    List<String> keys = store().list(key("onlykids")).stream().map(KVPair::key).toList();
    assertEquals(List.of(key("onlykids/a")), keys);
  }

  @Test
  void deleteTreeRemovesTheDirectoryAndEveryDescendant() {
    String dir = key("testDeleteTree");
    store().put(dir, b("d"), null);
    store().put(dir + "/a", b("a"), null);
    store().put(dir + "/b/c", b("c"), null);
    store().put(dir + "/b/c/d", b("d"), null);
    store().put(key("testDeleteTreeSibling"), b("stays"), null);
    store().deleteTree(dir);
    for (String k : List.of(dir, dir + "/a", dir + "/b/c", dir + "/b/c/d")) {
      assertFalse(store().exists(k), k + " deleted");
      assertThrows(KeyNotFoundException.class, () -> store().get(k));
    }
    assertThrows(KeyNotFoundException.class, () -> store().list(dir));
    assertArrayEquals(b("stays"), store().get(key("testDeleteTreeSibling")).value());
  }

  @Test
  void deleteTreeOfMissingDirectoryDoesNothing() {
    store().put(key("other"), b("v"), null);
    store().deleteTree(key("missing"));
    assertArrayEquals(b("v"), store().get(key("other")).value());
  }

  // ---------------------------------------------------------------------------------------------
  // libkv testutils: atomicPut, atomicDelete
  // ---------------------------------------------------------------------------------------------

  @Test
  void atomicPutSucceedsWithCurrentIndexAndFailsWithStaleOne() {
    String k = key("testAtomicPut");
    store().put(k, b("world"), null);
    KVPair first = store().get(k);
    KVPair second = store().atomicPut(k, b("WORLD"), first, null);
    assertEquals(k, second.key());
    assertArrayEquals(b("WORLD"), second.value());
    assertTrue(second.lastIndex() > first.lastIndex());
    assertEquals(second, store().get(k), "returned pair equals the stored one");

    KeyModifiedException e =
        assertThrows(
            KeyModifiedException.class, () -> store().atomicPut(k, b("WORLDWORLD"), first, null));
    assertEquals(first.lastIndex(), e.expectedIndex());
    assertArrayEquals(b("WORLD"), store().get(k).value(), "failed CAS changed nothing");
  }

  @Test
  void atomicPutCreateFormCreatesOnceThenThrowsKeyExists() {
    String k = key("testAtomicPutCreate/create");
    KVPair created = store().atomicPut(k, b("putcreate"), null, null);
    assertArrayEquals(b("putcreate"), created.value());
    assertTrue(created.lastIndex() > 0);
    assertEquals(created, store().get(k));
    assertThrows(KeyExistsException.class, () -> store().atomicPut(k, b("again"), null, null));
    assertArrayEquals(b("putcreate"), store().get(k).value());
    store().delete(k);
    KVPair recreated = store().atomicPut(k, b("putcreate2"), null, null);
    assertTrue(recreated.lastIndex() > created.lastIndex());
  }

  @Test
  void atomicPutWithSlashSuffixKey() {
    String k = key("testAtomicPutWithSlashSuffixKey/");
    KVPair p = store().atomicPut(k, new byte[0], null, null);
    assertEquals(Keys.normalize(k), p.key());
    assertTrue(store().exists(k));
  }

  @Test
  void atomicPutOnDeletedKeyThrowsKeyNotFound() {
    String k = key("gone");
    store().put(k, b("v"), null);
    KVPair prev = store().get(k);
    store().delete(k);
    assertThrows(KeyNotFoundException.class, () -> store().atomicPut(k, b("w"), prev, null));
    assertFalse(store().exists(k));
  }

  @Test
  void atomicDeleteChecksTheIndex() {
    String k = key("testAtomicDelete");
    store().put(k, b("world"), null);
    KVPair pair = store().get(k);
    KVPair stale = new KVPair(pair.key(), pair.value(), pair.lastIndex() - 1);
    KeyModifiedException e =
        assertThrows(KeyModifiedException.class, () -> store().atomicDelete(k, stale));
    assertEquals(stale.lastIndex(), e.expectedIndex());
    assertTrue(store().exists(k));
    assertTrue(store().atomicDelete(k, pair));
    assertFalse(store().exists(k));
    assertThrows(KeyNotFoundException.class, () -> store().atomicDelete(k, pair));
  }

  @Test
  void atomicDeleteWithoutPreviousThrows() {
    store().put(key("np"), b("v"), null);
    assertThrows(PreviousNotSpecifiedException.class, () -> store().atomicDelete(key("np"), null));
    assertTrue(store().exists(key("np")));
  }

  @Test
  void concurrentAtomicPutsHaveExactlyOneWinnerPerRound() throws Exception {
    String k = key("race");
    store().put(k, b("0"), null);
    Store other = otherStore();
    for (int round = 0; round < 5; round++) {
      KVPair seen = store().get(k);
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Boolean>> results = new ArrayList<>();
      for (Store s : List.of(store(), other)) {
        results.add(
            pool.submit(
                () -> {
                  go.await();
                  try {
                    s.atomicPut(k, b("w"), seen, null);
                    return true;
                  } catch (KeyModifiedException lost) {
                    return false;
                  }
                }));
      }
      go.countDown();
      int winners = 0;
      for (Future<Boolean> f : results) {
        winners += f.get(30, TimeUnit.SECONDS) ? 1 : 0;
      }
      assertEquals(1, winners, "round " + round);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // TTL
  // ---------------------------------------------------------------------------------------------

  @Test
  void putWithTtlExpiresWithinTtlPlusOneSecond() throws InterruptedException {
    Duration ttl = shortTtl();
    String k = key("testPutTTL");
    String persistent = key("testPutTTLPersistent");
    if (gaps().contains(Gap.PUT_TTL)) {
      assertThrows(
          CallNotSupportedException.class, () -> store().put(k, b("v"), WriteOptions.ttl(ttl)));
      return;
    }
    store().put(persistent, b("stays"), null);
    long start = System.nanoTime();
    store().put(k, b("v"), WriteOptions.ttl(ttl));
    assertTrue(store().exists(k), "a TTL key exists right after the put");
    waitUntil(
        () -> !store().exists(k),
        ttl.plusSeconds(1).plusMillis(750),
        "key with ttl " + ttl + " still there after ttl + 1 s");
    long goneAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(
        goneAfterMs >= ttl.toMillis() / 2, "expired too early, after " + goneAfterMs + " ms");
    assertTrue(store().exists(persistent));
  }

  @Test
  void putWithTtlRefreshedByAnotherPutLivesOn() throws InterruptedException {
    if (gaps().contains(Gap.PUT_TTL)) {
      return; // covered by putWithTtlExpiresWithinTtlPlusOneSecond
    }
    String k = key("refreshed");
    store().put(k, b("1"), WriteOptions.ttl(shortTtl()));
    store().put(k, b("2"), null);
    // A later put without TTL makes the key persistent; wait past the first TTL.
    long until = System.nanoTime() + shortTtl().plusSeconds(1).plusMillis(500).toNanos();
    while (System.nanoTime() < until) {
      assertTrue(store().exists(k), "key re-put without ttl must not expire");
      Thread.sleep(100);
    }
    assertArrayEquals(b("2"), store().get(k).value());
  }

  // ---------------------------------------------------------------------------------------------
  // Watches
  // ---------------------------------------------------------------------------------------------

  @Test
  void watchDeliversCurrentValueThenEveryChangeInOrder() throws Exception {
    String k = key("testWatch");
    store().put(k, b("world"), null);
    KVPair initial = store().get(k);
    try (Watch<KVPair> w = store().watch(k)) {
      KVPair first = w.poll(EVENT_WAIT);
      assertNotNull(first, "first event is the current pair");
      assertEquals(initial, first);
      long last = first.lastIndex();
      for (int i = 1; i <= 4; i++) {
        otherStore().put(k, b("world" + i), null);
        KVPair ev = w.poll(EVENT_WAIT);
        assertNotNull(ev, "event " + i);
        assertEquals(k, ev.key());
        assertArrayEquals(b("world" + i), ev.value());
        assertTrue(ev.lastIndex() > last, "index order");
        last = ev.lastIndex();
      }
      assertNull(w.poll(QUIET_WAIT), "no event without a change");
    }
  }

  @Test
  void watchReportsDeletionWithTheDeletingIndex() throws Exception {
    String k = key("watchDelete");
    store().put(k, b("v"), null);
    try (Watch<KVPair> w = store().watch(k)) {
      KVPair first = w.poll(EVENT_WAIT);
      assertNotNull(first);
      store().delete(k);
      KVPair del = w.poll(EVENT_WAIT);
      assertNotNull(del, "deletion event");
      assertEquals(k, del.key());
      assertNull(del.value(), "deletion has a null value");
      assertTrue(del.isDeletion());
      assertTrue(del.lastIndex() > first.lastIndex(), "deletion carries the deleting index");
      store().put(k, b("back"), null);
      KVPair back = w.poll(EVENT_WAIT);
      assertNotNull(back, "re-creation after deletion");
      assertArrayEquals(b("back"), back.value());
      assertTrue(back.lastIndex() > del.lastIndex());
    }
  }

  @Test
  void watchOnMissingKeyWaitsForIt() throws Exception {
    String k = key("notYet");
    try (Watch<KVPair> w = store().watch(k)) {
      assertNull(w.poll(QUIET_WAIT), "nothing while the key is missing");
      store().put(k, b("here"), null);
      KVPair ev = w.poll(EVENT_WAIT);
      assertNotNull(ev, "the creation is delivered");
      assertArrayEquals(b("here"), ev.value());
    }
  }

  @Test
  void watchIgnoresOtherKeysAndChildren() throws Exception {
    String k = key("solo");
    store().put(k, b("v"), null);
    try (Watch<KVPair> w = store().watch(k)) {
      assertNotNull(w.poll(EVENT_WAIT));
      store().put(k + "/child", b("c"), null);
      store().put(k + "x", b("c"), null);
      assertNull(w.poll(QUIET_WAIT), "changes of other keys are not events of this watch");
    }
  }

  @Test
  void watchResumeDeliversEveryChangeAfterTheIndex() throws Exception {
    String k = key("resume");
    store().put(k, b("v0"), null);
    long from = store().get(k).lastIndex();
    if (gaps().contains(Gap.WATCH_RESUME)) {
      assertThrows(CallNotSupportedException.class, () -> store().watch(k, from).close());
      return;
    }
    List<Long> written = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      store().put(k, b("v" + i), null);
      written.add(store().get(k).lastIndex());
    }
    store().delete(k);
    try (Watch<KVPair> w = store().watch(k, from)) {
      for (int i = 1; i <= 5; i++) {
        KVPair ev = w.poll(EVENT_WAIT);
        assertNotNull(ev, "replayed change " + i);
        assertArrayEquals(b("v" + i), ev.value(), "change " + i + " not skipped");
        assertEquals(written.get(i - 1), ev.lastIndex());
      }
      KVPair del = w.poll(EVENT_WAIT);
      assertNotNull(del, "replayed deletion");
      assertTrue(del.isDeletion());
      store().put(k, b("live"), null);
      KVPair live = w.poll(EVENT_WAIT);
      assertNotNull(live, "live change after the replay");
      assertArrayEquals(b("live"), live.value());
      assertTrue(live.lastIndex() > del.lastIndex());
      assertNull(w.poll(QUIET_WAIT), "no duplicate at the seam");
    }
  }

  @Test
  void slowWatcherSeesCoalescedChangesButNeverAnOlderStateAfterANewerOne() throws Exception {
    String k = key("coalesce");
    store().put(k, b("0"), null);
    try (Watch<KVPair> w = store().watch(k)) {
      assertNotNull(w.poll(EVENT_WAIT));
      int n = 300;
      for (int i = 1; i <= n; i++) {
        store().put(k, b(Integer.toString(i)), null);
      }
      long lastIndex = 0;
      int lastValue = 0;
      while (lastValue < n) {
        KVPair ev = w.poll(EVENT_WAIT);
        assertNotNull(ev, "the final state arrives (last seen " + lastValue + ")");
        int v = Integer.parseInt(ev.valueAsString());
        assertTrue(ev.lastIndex() > lastIndex, "indices only grow");
        assertTrue(v > lastValue, "value " + v + " after " + lastValue);
        lastIndex = ev.lastIndex();
        lastValue = v;
      }
      assertEquals(store().get(k).lastIndex(), lastIndex);
    }
  }

  @Test
  void closingAWatchWakesTheReaderAndStopsEvents() throws Exception {
    String k = key("closeWatch");
    Watch<KVPair> w = store().watch(k);
    CompletableFuture<Throwable> reader = new CompletableFuture<>();
    pool.submit(
        () -> {
          try {
            w.take();
            reader.complete(null);
          } catch (Throwable t) {
            reader.complete(t);
          }
        });
    Thread.sleep(100); // let the reader block; the assertion below holds either way
    w.close();
    Throwable t = reader.get(10, TimeUnit.SECONDS);
    assertTrue(t instanceof WatchClosedException, "take() on a closed watch: " + t);
    assertTrue(w.isClosed());
    store().put(k, b("after"), null);
    assertNull(w.poll(Duration.ofMillis(200)), "closed watch returns null");
  }

  @Test
  void watchTreeDeliversTheWholeListAfterEveryChange() throws Exception {
    String dir = key("testWatchTree");
    store().put(dir + "/node1", b("node1"), null);
    store().put(dir + "/node2", b("node2"), null);
    store().put(dir + "/node3", b("node3"), null);
    try (Watch<List<KVPair>> w = store().watchTree(dir)) {
      List<KVPair> first = w.poll(EVENT_WAIT);
      assertNotNull(first);
      assertEquals(
          List.of(dir + "/node1", dir + "/node2", dir + "/node3"),
          first.stream().map(KVPair::key).toList());
      store().delete(dir + "/node3");
      List<KVPair> afterDelete = awaitTree(w, l -> l.size() == 2);
      assertEquals(
          List.of(dir + "/node1", dir + "/node2"), afterDelete.stream().map(KVPair::key).toList());
      store().put(dir + "/node1", b("changed"), null);
      List<KVPair> afterChange =
          awaitTree(w, l -> !l.isEmpty() && l.get(0).valueAsString().equals("changed"));
      assertEquals(2, afterChange.size());
      store().put(dir + "/sub/deep", b("d"), null);
      List<KVPair> afterDeep =
          awaitTree(w, l -> l.stream().anyMatch(p -> p.key().endsWith("deep")));
      assertTrue(afterDeep.stream().map(KVPair::key).toList().contains(dir + "/sub/deep"));
      store().put(key("testWatchTreeSibling"), b("x"), null);
      List<KVPair> noise = w.poll(QUIET_WAIT);
      assertNull(noise, "a key beside the directory is not a change under it");
    }
  }

  @Test
  void watchTreeOnEmptyDirectoryStartsWithEmptyList() throws Exception {
    String dir = key("emptyTree");
    try (Watch<List<KVPair>> w = store().watchTree(dir)) {
      List<KVPair> first = w.poll(EVENT_WAIT);
      assertNotNull(first, "first event is the current (empty) list");
      assertEquals(List.of(), first);
      store().put(dir + "/a", b("a"), null);
      List<KVPair> next = awaitTree(w, l -> l.size() == 1);
      assertEquals(dir + "/a", next.get(0).key());
    }
  }

  /**
   * Polls {@code condition} every 20 ms until it holds, failing with {@code message} after {@code
   * within}.
   */
  protected static void waitUntil(BooleanSupplier condition, Duration within, String message)
      throws InterruptedException {
    if (!waitUntilQuietly(condition, within)) {
      fail(message);
    }
  }

  private static boolean waitUntilQuietly(BooleanSupplier condition, Duration within)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
    return true;
  }

  private static List<KVPair> awaitTree(
      Watch<List<KVPair>> w, java.util.function.Predicate<List<KVPair>> done)
      throws InterruptedException {
    long deadline = System.nanoTime() + EVENT_WAIT.toNanos();
    List<KVPair> last = null;
    while (System.nanoTime() < deadline) {
      List<KVPair> ev = w.poll(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      if (ev == null) {
        break;
      }
      last = ev;
      if (done.test(ev)) {
        return ev;
      }
    }
    throw new AssertionError("tree watch never reached the expected state; last event " + last);
  }

  // ---------------------------------------------------------------------------------------------
  // Locks
  // ---------------------------------------------------------------------------------------------

  @Test
  void lockUnlockAndRelock() throws Exception {
    String k = key("testLockUnlock");
    Locker lock = store().newLock(k, LockOptions.builder().value(b("bar")).build());
    HeldLock held = lock.lock();
    assertNotNull(held);
    assertArrayEquals(b("bar"), store().get(k).value(), "the lock's key holds the value");
    assertFalse(held.lost().isDone());
    lock.unlock();
    held.lost().get(10, TimeUnit.SECONDS);
    assertTrue(
        !store().exists(k) || store().get(k).value().length == 0,
        "after unlock the key is gone or empty");
    HeldLock again = lock.lock();
    assertArrayEquals(b("bar"), store().get(k).value());
    assertTrue(again.fencingToken() > held.fencingToken(), "relock is a new holder");
    lock.unlock();
  }

  @Test
  void lockInternalsNeverShowInList() throws Exception {
    String dir = key("lockdir");
    store().put(dir + "/plain", b("p"), null);
    Locker lock = store().newLock(dir + "/mutex", LockOptions.builder().value(b("me")).build());
    lock.lock();
    Future<HeldLock> waiter =
        pool.submit(() -> otherStore().newLock(dir + "/mutex", null).lock(Duration.ofSeconds(30)));
    Thread.sleep(300); // give the waiter time to enqueue itself; the assertion holds either way
    List<String> listed = store().list(dir).stream().map(KVPair::key).toList();
    assertEquals(List.of(dir + "/mutex", dir + "/plain"), listed, "only user keys listed");
    List<String> all = store().list(root()).stream().map(KVPair::key).toList();
    assertTrue(all.stream().allMatch(k -> k.startsWith(root() + "/")), all.toString());
    lock.unlock();
    waiter.get(30, TimeUnit.SECONDS);
  }

  @Test
  void waiterGetsTheLockAfterUnlockWithAGreaterFencingToken() throws Exception {
    String k = key("testLockWait");
    Locker first = store().newLock(k, LockOptions.builder().value(b("first")).build());
    HeldLock held = first.lock();
    Store other = otherStore();
    Locker second = other.newLock(k, LockOptions.builder().value(b("second")).build());
    Future<HeldLock> waiting = pool.submit(() -> second.lock());
    assertThrows(
        TimeoutException.class, () -> waiting.get(1, TimeUnit.SECONDS), "held lock blocks");
    first.unlock();
    HeldLock next = waiting.get(30, TimeUnit.SECONDS);
    assertTrue(next.fencingToken() > held.fencingToken(), "fencing token grows");
    assertArrayEquals(b("second"), store().get(k).value());
    second.unlock();
  }

  @Test
  void lockWithTimeoutThrowsCannotLockAndGivesUpItsPlace() throws Exception {
    String k = key("timeout");
    Locker holder = store().newLock(k, null);
    holder.lock();
    Locker impatient = otherStore().newLock(k, null);
    long start = System.nanoTime();
    assertThrows(CannotLockException.class, () -> impatient.lock(Duration.ofMillis(700)));
    long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(took >= 600, "waited for the timeout, took " + took + " ms");
    holder.unlock();
    // The impatient waiter left the queue, so a third comer gets the lock at once.
    Locker third = otherStore().newLock(k, null);
    HeldLock h = third.lock(Duration.ofSeconds(15));
    assertNotNull(h);
    third.unlock();
  }

  @Test
  void interruptedLockGivesUpItsPlace() throws Exception {
    String k = key("interrupt");
    Locker holder = store().newLock(k, null);
    holder.lock();
    Locker waiter = otherStore().newLock(k, null);
    Future<HeldLock> f = pool.submit(() -> waiter.lock());
    assertThrows(TimeoutException.class, () -> f.get(500, TimeUnit.MILLISECONDS));
    f.cancel(true);
    holder.unlock();
    Locker third = otherStore().newLock(k, null);
    assertNotNull(third.lock(Duration.ofSeconds(15)), "the interrupted waiter left the queue");
    third.unlock();
  }

  @Test
  void waitersAreServedInArrivalOrder() throws Exception {
    String k = key("fifo");
    Locker holder = store().newLock(k, null);
    HeldLock h0 = holder.lock();
    List<Integer> order = Collections.synchronizedList(new ArrayList<>());
    List<Future<Long>> tokens = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      int id = i;
      Store s = otherStore();
      Locker l = s.newLock(k, null);
      CountDownLatch queued = new CountDownLatch(1);
      tokens.add(
          pool.submit(
              () -> {
                queued.countDown();
                HeldLock h = l.lock();
                order.add(id);
                long t = h.fencingToken();
                l.unlock();
                return t;
              }));
      queued.await();
      Thread.sleep(400); // arrival order is the point of this test: space the arrivals out
    }
    holder.unlock();
    long last = h0.fencingToken();
    for (Future<Long> f : tokens) {
      long t = f.get(30, TimeUnit.SECONDS);
      assertTrue(t > last, "tokens grow: " + t + " after " + last);
      last = t;
    }
    assertEquals(List.of(0, 1, 2), order, "served in arrival order");
  }

  @Test
  void lockExpiresWhenRenewalStopsAndLostCompletes() throws Exception {
    String k = key("testLockTTL");
    Duration ttl = shortTtl();
    CompletableFuture<Void> stopRenew = new CompletableFuture<>();
    Locker lock =
        store()
            .newLock(
                k, LockOptions.builder().value(b("bar")).ttl(ttl).stopRenewal(stopRenew).build());
    HeldLock held = lock.lock();
    assertArrayEquals(b("bar"), store().get(k).value());

    // While renewal runs the lock outlives its ttl.
    Locker other = otherStore().newLock(k, LockOptions.builder().value(b("foobar")).build());
    assertThrows(CannotLockException.class, () -> other.lock(ttl.plusSeconds(1)));
    assertFalse(held.lost().isDone(), "renewed lock is not lost");

    long stopped = System.nanoTime();
    stopRenew.complete(null);
    held.lost().get(ttl.plusSeconds(10).toMillis(), TimeUnit.MILLISECONDS);
    HeldLock next = other.lock(ttl.plusSeconds(10));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
    assertTrue(
        tookMs <= ttl.plusSeconds(1).plusMillis(1500).toMillis(),
        "lock lost within ttl + 1 s after renewal stopped, took " + tookMs + " ms");
    assertTrue(next.fencingToken() > held.fencingToken());
    assertArrayEquals(b("foobar"), store().get(k).value());
    other.unlock();
  }

  @Test
  void fencingTokensGrowAcrossManyHolders() throws Exception {
    String k = key("fence");
    AtomicLong last = new AtomicLong();
    Store[] clients = {store(), otherStore()};
    for (int i = 0; i < 6; i++) {
      Locker l = clients[i % 2].newLock(k, null);
      HeldLock h = l.lock(Duration.ofSeconds(15));
      assertTrue(h.fencingToken() > last.get(), "holder " + i);
      last.set(h.fencingToken());
      l.unlock();
    }
  }

  @Test
  void lockingTwiceWithoutUnlockIsAnError() throws Exception {
    Locker l = store().newLock(key("twice"), null);
    l.lock();
    assertThrows(IllegalStateException.class, l::lock);
    l.unlock();
    l.unlock(); // unlocking a lock that is not held does nothing
  }

  @Test
  void aHoldingInTryWithResourcesIsReleasedAtTheEndOfTheBlock() throws Exception {
    String k = key("twr");
    HeldLock outer;
    try (HeldLock held = store().newLock(k, null).lock()) {
      outer = held;
      assertFalse(held.lost().isDone());
    }
    outer.lost().get(15, TimeUnit.SECONDS);
    try (Locker next = otherStore().newLock(k, null)) {
      HeldLock h = next.lock(Duration.ofSeconds(15));
      assertTrue(h.fencingToken() > outer.fencingToken(), "the next holder has a larger token");
    } // the locker's close unlocks
    try (Locker third = store().newLock(k, null)) {
      assertNotNull(third.lock(Duration.ofSeconds(15)), "the locker's close released the lock");
    }
  }

  @Test
  void completingLostOrClosingAnOldHoldingChangesNothing() throws Exception {
    String k = key("stale");
    Locker l = store().newLock(k, null);
    HeldLock first = l.lock();
    first.lost().complete(null);
    first.lost().cancel(true);
    assertFalse(first.lost().isDone(), "a caller cannot complete the lock's lost signal");
    l.unlock();
    first.lost().get(15, TimeUnit.SECONDS);
    HeldLock second = l.lock();
    first.close(); // an old holding: must not release the new one
    first.close();
    assertFalse(second.lost().isDone(), "closing an old holding released the new one");
    Locker other = otherStore().newLock(k, null);
    assertThrows(CannotLockException.class, () -> other.lock(Duration.ofMillis(500)));
    second.close();
    second.lost().get(15, TimeUnit.SECONDS);
    assertNotNull(other.lock(Duration.ofSeconds(15)));
    other.unlock();
  }

  @Test
  void closingTheStoreReleasesItsLocks() throws Exception {
    String k = key("closeLock");
    Store owner = otherStore();
    HeldLock held = owner.newLock(k, null).lock();
    owner.close();
    held.lost().get(15, TimeUnit.SECONDS);
    Locker next = store().newLock(k, null);
    assertNotNull(next.lock(Duration.ofSeconds(15)), "closed store's lock is released at once");
    next.unlock();
  }

  // ---------------------------------------------------------------------------------------------
  // close()
  // ---------------------------------------------------------------------------------------------

  @Test
  void closeEndsWatchesAndIsIdempotent() throws Exception {
    Store s = otherStore();
    Watch<KVPair> w = s.watch(key("w"));
    Watch<List<KVPair>> t = s.watchTree(key("t"));
    s.close();
    s.close();
    assertTrue(w.isClosed(), "key watch closed with its store");
    assertTrue(t.isClosed(), "tree watch closed with its store");
    assertThrows(WatchClosedException.class, w::take);
  }

  @Test
  void closeLeavesNoThreadBehind() throws Exception {
    store().put(key("warm"), b("up"), null); // let the backend start what it shares
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    Store s = otherStore();
    s.put(key("t"), b("v"), null);
    try (Watch<KVPair> w = s.watch(key("t"))) {
      assertNotNull(w.poll(EVENT_WAIT));
    }
    Watch<List<KVPair>> tree = s.watchTree(key("tree"));
    assertNotNull(tree.poll(EVENT_WAIT));
    Locker l = s.newLock(key("lock"), null);
    l.lock();
    s.close();
    BooleanSupplier clean =
        () ->
            Thread.getAllStackTraces().keySet().stream()
                .filter(th -> !before.contains(th) && th.isAlive())
                .filter(th -> !isSharedThread(th))
                .filter(th -> !th.getName().startsWith(SUITE_THREAD_PREFIX))
                .findAny()
                .isEmpty();
    if (!clean.getAsBoolean()) {
      waitUntilQuietly(clean, Duration.ofSeconds(10));
    }
    String leftovers =
        Thread.getAllStackTraces().keySet().stream()
            .filter(th -> !before.contains(th) && th.isAlive() && !isSharedThread(th))
            .filter(th -> !th.getName().startsWith(SUITE_THREAD_PREFIX))
            .map(Thread::getName)
            .collect(Collectors.joining(", "));
    assertTrue(leftovers.isEmpty(), "threads outlived close(): " + leftovers);
  }
}
