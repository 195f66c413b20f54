package io.libkv.storage.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.CannotLockException;
import io.libkv.store.Config;
import io.libkv.store.HeldLock;
import io.libkv.store.HistoryCompactedException;
import io.libkv.store.KVPair;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.Watch;
import io.libkv.store.WriteOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TTLs, leases and locks over an EngineStore wired by hand (as the Raft module does), with a fake
 * clock moved by the test: no sleeping for TTLs.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EngineStoreLeaseTest {
  @TempDir Path dir;

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private KvEngine engine;
  private WatchHub hub;
  private LeaseReaper reaper;
  private CommandSubmitter submitter;
  private EngineStore store;
  private ExecutorService pool;

  @BeforeEach
  void open() {
    engine = KvEngine.open(dir, EngineOptions.builder().sync(false).build());
    // A synchronous single-writer submitter: the simplest CommandSubmitter there is.
    submitter =
        c -> {
          synchronized (this) {
            long rev = engine.lastRevision() + 1;
            return CompletableFuture.completedFuture(engine.apply(rev, rev, List.of(c)).get(0));
          }
        };
    hub = new WatchHub(engine, "lease-test");
    reaper = new LeaseReaper(engine, submitter, now::get, "lease-test");
    reaper.takeCharge();
    store = newStore();
    pool = Executors.newCachedThreadPool();
  }

  private EngineStore newStore() {
    return new EngineStore(
        "test", submitter, engine, hub, Config.builder().clock(now::get).build(), closed -> {});
  }

  @AfterEach
  void close() throws InterruptedException {
    pool.shutdownNow();
    pool.awaitTermination(10, TimeUnit.SECONDS);
    store.close();
    reaper.close();
    hub.close();
    engine.close();
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void waitFor(BooleanSupplier c, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      TimeUnit.MILLISECONDS.sleep(10);
    }
  }

  @Test
  void ttlKeyExpiresOnlyAfterItsTtl() throws InterruptedException {
    store.put("t/k", b("v"), WriteOptions.ttl(Duration.ofSeconds(5)));
    store.put("t/keep", b("v"), null);
    advance(Duration.ofMillis(4990));
    assertEquals(0, reaper.expireDue());
    assertTrue(store.exists("t/k"));
    advance(Duration.ofMillis(20));
    reaper.expireDue();
    waitFor(() -> !store.exists("t/k"), "expiry");
    assertTrue(store.exists("t/keep"));
    assertEquals(List.of(), engine.read(ReadView::leases), "the key's lease is gone too");
  }

  @Test
  void rePutWithoutTtlMakesTheKeyPersistentAndWithTtlRestartsIt() {
    store.put("k1", b("1"), WriteOptions.ttl(Duration.ofSeconds(2)));
    store.put("k1", b("2"), null);
    store.put("k2", b("1"), WriteOptions.ttl(Duration.ofSeconds(2)));
    advance(Duration.ofMillis(1500));
    store.put("k2", b("2"), WriteOptions.ttl(Duration.ofSeconds(2)));
    advance(Duration.ofMillis(1000));
    reaper.expireDue();
    assertTrue(store.exists("k1"));
    assertTrue(store.exists("k2"), "re-put restarted the TTL");
    advance(Duration.ofMillis(1100));
    reaper.expireDue();
    assertFalse(store.exists("k2"));
    assertTrue(store.exists("k1"));
  }

  @Test
  void takingChargeGivesEveryLeaseAFullTtl() {
    store.put("k", b("v"), WriteOptions.ttl(Duration.ofSeconds(5)));
    advance(Duration.ofSeconds(4));
    // Leadership moves: the new reaper knows no deadline and gives every lease a full TTL.
    reaper.resign();
    assertEquals(0, reaper.expireDue());
    reaper.takeCharge();
    advance(Duration.ofSeconds(4));
    assertEquals(0, reaper.expireDue());
    assertTrue(store.exists("k"), "nothing expires early after a change of charge");
    advance(Duration.ofMillis(1001));
    assertEquals(1, reaper.expireDue());
    assertFalse(store.exists("k"));
  }

  @Test
  void heldLockIsLostWhenRenewalStopsAndItsLeaseExpires() throws Exception {
    CompletableFuture<Void> stop = new CompletableFuture<>();
    Locker l =
        store.newLock(
            "locks/a",
            LockOptions.builder()
                .value(b("me"))
                .ttl(Duration.ofSeconds(3))
                .stopRenewal(stop)
                .build());
    HeldLock h = l.lock();
    assertArrayEquals(b("me"), store.get("locks/a").value());
    stop.complete(null);
    advance(Duration.ofMillis(2999));
    reaper.expireDue();
    assertFalse(h.lost().isDone());
    advance(Duration.ofMillis(2));
    reaper.expireDue();
    h.lost().get(10, TimeUnit.SECONDS);
    assertFalse(store.exists("locks/a"), "the lock's key goes with its lease");
    HeldLock again = l.lock();
    assertTrue(again.fencingToken() > h.fencingToken());
    l.unlock();
  }

  @Test
  void lostCallbackMayWriteToTheStore() throws Exception {
    CompletableFuture<Void> stop = CompletableFuture.completedFuture(null);
    Locker l =
        store.newLock(
            "cb", LockOptions.builder().ttl(Duration.ofSeconds(1)).stopRenewal(stop).build());
    HeldLock h = l.lock();
    CompletableFuture<String> wrote =
        h.lost()
            .thenApply(
                x -> {
                  store.put("cb-after", b("written from lost()"), null);
                  return Thread.currentThread().getName();
                });
    advance(Duration.ofMillis(1001));
    reaper.expireDue();
    String thread = wrote.get(10, TimeUnit.SECONDS);
    assertTrue(store.exists("cb-after"));
    assertFalse(thread.startsWith("libkv-watch"), "lost() completed on the hub thread");
  }

  @Test
  void lostCallbackMayCloseTheStore() throws Exception {
    EngineStore other = newStore();
    Locker l =
        other.newLock(
            "cb-close",
            LockOptions.builder()
                .ttl(Duration.ofSeconds(1))
                .stopRenewal(CompletableFuture.completedFuture(null))
                .build());
    HeldLock h = l.lock();
    CompletableFuture<Void> closed = h.lost().thenRun(other::close);
    advance(Duration.ofMillis(1001));
    reaper.expireDue();
    closed.get(5, TimeUnit.SECONDS);
    assertTrue(other.isClosed());
  }

  @Test
  void waitersQueueInOrderWithGrowingTokensAndNoInternalKeyShows() throws Exception {
    Locker first = store.newLock("q/lock", null);
    HeldLock h1 = first.lock();
    EngineStore other = newStore();
    try {
      Locker second = other.newLock("q/lock", LockOptions.builder().value(b("2")).build());
      Future<HeldLock> waiting = pool.submit(() -> second.lock());
      String prefix = EngineStore.queuePrefix("q/lock");
      waitFor(() -> engine.read(v -> v.listPrefix(prefix)).size() == 2, "second waiter queued");
      assertThrows(TimeoutException.class, () -> waiting.get(200, TimeUnit.MILLISECONDS));
      assertEquals(List.of("q/lock"), store.list("q").stream().map(KVPair::key).toList());
      first.unlock();
      HeldLock h2 = waiting.get(10, TimeUnit.SECONDS);
      assertTrue(h2.fencingToken() > h1.fencingToken());
      assertArrayEquals(b("2"), store.get("q/lock").value());
      second.unlock();
      assertEquals(List.of(), engine.read(v -> v.listPrefix(prefix)));
    } finally {
      other.close();
    }
  }

  @Test
  void timedOutAndInterruptedWaitersLeaveTheQueue() throws Exception {
    Locker holder = store.newLock("w", null);
    holder.lock();
    String prefix = EngineStore.queuePrefix("w");
    Locker impatient = store.newLock("w", null);
    assertThrows(CannotLockException.class, () -> impatient.lock(Duration.ofMillis(200)));
    assertEquals(1, engine.read(v -> v.listPrefix(prefix)).size());
    Locker interrupted = store.newLock("w", null);
    Future<HeldLock> f = pool.submit(() -> interrupted.lock());
    waitFor(() -> engine.read(v -> v.listPrefix(prefix)).size() == 2, "waiter queued");
    f.cancel(true);
    waitFor(() -> engine.read(v -> v.listPrefix(prefix)).size() == 1, "interrupted waiter gone");
    holder.unlock();
    assertEquals(List.of(), engine.read(v -> v.listPrefix(prefix)));
  }

  @Test
  void closingTheStoreRevokesItsLocksAndClosesItsWatches() throws Exception {
    EngineStore other = newStore();
    HeldLock h = other.newLock("c", null).lock();
    Watch<KVPair> w = other.watch("c");
    assertNotNull(w.poll(Duration.ofSeconds(5)));
    other.close();
    assertTrue(h.lost().isDone());
    assertTrue(w.isClosed());
    assertFalse(store.exists("c"));
    assertEquals(List.of(), engine.read(ReadView::leases));
  }

  @Test
  void watchResumeBeforeTheHistoryNamesTheOldestRevision() throws Exception {
    engine.close();
    hub.close();
    reaper.close();
    store.close();
    engine =
        KvEngine.open(
            dir.resolve("small"), EngineOptions.builder().historySize(5).sync(false).build());
    hub = new WatchHub(engine, "small");
    reaper = new LeaseReaper(engine, submitter, now::get, "small");
    store = newStore();
    for (int i = 0; i < 10; i++) {
      store.put("h", b("v" + i), null);
    }
    HistoryCompactedException e =
        assertThrows(HistoryCompactedException.class, () -> store.watch("h", 2));
    assertEquals(6, e.oldestAvailable());
    try (Watch<KVPair> ok = store.watch("h", 5)) {
      for (int i = 5; i < 10; i++) {
        assertArrayEquals(b("v" + i), ok.poll(Duration.ofSeconds(5)).value());
      }
    }
  }
}
