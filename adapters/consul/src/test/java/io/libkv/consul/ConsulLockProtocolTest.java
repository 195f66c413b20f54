package io.libkv.consul;

import static io.libkv.consul.ConsulProtocolTest.b;
import static io.libkv.consul.ConsulProtocolTest.b64;
import static io.libkv.consul.ConsulProtocolTest.txnOps;
import static io.libkv.consul.RecordedConsul.entryJson;
import static io.libkv.consul.RecordedConsul.txnFailed;
import static io.libkv.consul.RecordedConsul.txnOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.CannotLockException;
import io.libkv.store.Config;
import io.libkv.store.HeldLock;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Protocol tests of locks against <b>recorded API shapes</b> ({@link RecordedConsul}): the session
 * (TTL, behavior, lock delay), the queue key, the {@code lock} transaction and its fencing token,
 * renewal, the monitor that notices a lost lock, and the release paths. Not a test against Consul:
 * mutual exclusion and fairness on a real agent are checked by {@link ConsulStoreConformanceIT}.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ConsulLockProtocolTest {
  static final Duration WAIT = Duration.ofSeconds(5);
  static final String S = "adf4238a-882b-9ddc-4a9d-5b6758e4159e";
  static final String OTHER = "0c7a2e11-0000-4b8c-9f00-aaaaaaaaaaaa";
  static final String QUEUE = "__libkv/locks/k/";
  static final String SESSION_JSON =
      "[{\"ID\":\""
          + S
          + "\",\"Name\":\"libkv-lock k\",\"Node\":\"n1\",\"LockDelay\":1000000,"
          + "\"Behavior\":\"delete\",\"TTL\":\"10s\",\"NodeChecks\":[\"serfHealth\"],"
          + "\"ServiceChecks\":null,\"CreateIndex\":39,\"ModifyIndex\":39}]";

  RecordedConsul consul;
  Store store;
  final CompletableFuture<Void> never = new CompletableFuture<>();
  final ExecutorService pool = Executors.newCachedThreadPool();

  @BeforeEach
  void start() throws IOException {
    consul = new RecordedConsul();
    consul.on("GET", "/v1/status/leader").always(200, "\"127.0.0.1:8300\"");
    consul.on("PUT", "/v1/session/create").always(200, "{\"ID\":\"" + S + "\"}");
    consul.on("PUT", "/v1/session/destroy/" + S).always(200, "true");
    consul.on("PUT", "/v1/session/renew/" + S).always(200, SESSION_JSON);
    store =
        LibKV.newStore(
            Backend.CONSUL,
            List.of(consul.endpoint()),
            Config.builder()
                .connectionTimeout(Duration.ofSeconds(5))
                .option("consul.watchWait", "20s")
                .build());
  }

  @AfterEach
  void stop() {
    try {
      store.close();
      assertEquals(List.of(), consul.unexpected(), "requests nobody scripted");
    } finally {
      never.complete(null);
      pool.shutdownNow();
      consul.close();
    }
  }

  static String queued(String session, long createIndex) {
    return entryJson(QUEUE + session, null, createIndex, createIndex, 1, 0, session);
  }

  /** Scripts a lock that is free: enqueue, alone in the queue, take with ModifyIndex 42. */
  void scriptFreeLock() {
    consul
        .on("PUT", "/v1/txn")
        .reply(200, txnOk(queued(S, 40)))
        .reply(200, txnOk(entryJson("k", null, 42, 42, 1, 0, S)));
    consul
        .on("GET", "/v1/kv/" + QUEUE + "?recurse")
        .reply(200, "[" + queued(S, 40) + "]", "X-Consul-Index", "40");
    consul.on("GET", "/v1/kv/k?index=42&wait=20s").alwaysWhen(never, 404, "");
    // A monitor whose blocking query failed (a loaded machine) re-reads the key and blocks again.
    consul
        .on("GET", "/v1/kv/k")
        .always(200, "[" + entryJson("k", "", 42, 42, 1, 0, S) + "]", "X-Consul-Index", "42");
  }

  @Test
  void lockCreatesASessionQueuesTakesTheKeyAndUnlockDestroysTheSession() throws Exception {
    scriptFreeLock();
    Locker l =
        store.newLock(
            "k", LockOptions.builder().value(b("me")).ttl(Duration.ofSeconds(30)).build());
    HeldLock h = l.lock();
    assertEquals(42, h.fencingToken(), "the ModifyIndex written by the lock transaction");

    JsonNode session =
        ConsulProtocolTest.JSON.readTree(
            consul.nextMatching("PUT", "/v1/session/create", WAIT).body());
    assertEquals("15000ms", session.path("TTL").asText(), "half the lock ttl");
    assertEquals("delete", session.path("Behavior").asText());
    assertEquals("1ms", session.path("LockDelay").asText());
    JsonNode enqueue = txnOps(consul.nextMatching("PUT", "/v1/txn", WAIT));
    ConsulProtocolTest.assertOp(enqueue.get(0), "lock", QUEUE + S);
    assertEquals(S, enqueue.get(0).path("KV").path("Session").asText());
    JsonNode take = txnOps(consul.nextMatching("PUT", "/v1/txn", WAIT));
    ConsulProtocolTest.assertOp(take.get(0), "lock", "k");
    assertEquals(b64("me"), take.get(0).path("KV").path("Value").asText());
    assertEquals(S, take.get(0).path("KV").path("Session").asText());
    consul.nextMatching("GET", "/v1/kv/k?index=42&wait=20s", WAIT);

    assertFalse(h.lost().isDone());
    l.unlock();
    consul.nextMatching("PUT", "/v1/session/destroy/" + S, WAIT);
    assertTrue(h.lost().isDone(), "unlock completes lost()");
    l.unlock(); // not held: nothing happens
  }

  @Test
  void aDefaultTtlIsRoundedUpToConsulsTenSecondMinimum() throws Exception {
    scriptFreeLock();
    store.newLock("k", null).lock();
    JsonNode session =
        ConsulProtocolTest.JSON.readTree(
            consul.nextMatching("PUT", "/v1/session/create", WAIT).body());
    assertEquals("10000ms", session.path("TTL").asText());
  }

  @Test
  void waitersAreServedInCreateIndexOrder() throws Exception {
    CompletableFuture<Void> firstLeaves = new CompletableFuture<>();
    consul
        .on("PUT", "/v1/txn")
        .reply(200, txnOk(queued(S, 40)))
        .reply(200, txnOk(entryJson("k", null, 50, 50, 1, 0, S)));
    // Listed out of order on purpose: the adapter orders by CreateIndex.
    consul
        .on("GET", "/v1/kv/" + QUEUE + "?recurse")
        .reply(200, "[" + queued(S, 40) + "," + queued(OTHER, 30) + "]", "X-Consul-Index", "40");
    consul
        .on("GET", "/v1/kv/" + QUEUE + "?recurse&index=40&wait=20000ms")
        .replyWhen(firstLeaves, 200, "[" + queued(S, 40) + "]", "X-Consul-Index", "49");
    consul.on("GET", "/v1/kv/k?index=50&wait=20s").alwaysWhen(never, 404, "");
    Locker l = store.newLock("k", null);
    Callable<HeldLock> lock = l::lock;
    Future<HeldLock> f = pool.submit(lock);
    consul.nextMatching("GET", "/v1/kv/" + QUEUE + "?recurse&index=40&wait=20000ms", WAIT);
    assertFalse(f.isDone(), "second in the queue waits");
    assertEquals(
        1,
        consul.all().stream().filter(r -> r.path().equals("/v1/txn")).count(),
        "no attempt on the key while an earlier waiter is queued");
    firstLeaves.complete(null);
    assertEquals(50, f.get(5, TimeUnit.SECONDS).fencingToken());
  }

  @Test
  void firstInQueueWaitsWhileAnotherSessionHoldsTheKey() throws Exception {
    consul
        .on("PUT", "/v1/txn")
        .reply(200, txnOk(queued(S, 40)))
        .reply(409, txnFailed(0, "failed to lock key"))
        .reply(200, txnOk(entryJson("k", null, 60, 60, 2, 0, S)));
    consul
        .on("GET", "/v1/kv/" + QUEUE + "?recurse")
        .always(200, "[" + queued(S, 40) + "]", "X-Consul-Index", "40");
    consul
        .on("GET", "/v1/kv/k")
        .reply(200, "[" + entryJson("k", "x", 20, 33, 1, 0, OTHER) + "]", "X-Consul-Index", "33");
    consul.on("GET", "/v1/kv/k?index=33&wait=20000ms").reply(404, "", "X-Consul-Index", "59");
    consul.on("GET", "/v1/kv/k?index=60&wait=20s").alwaysWhen(never, 404, "");
    HeldLock h = store.newLock("k", null).lock();
    assertEquals(60, h.fencingToken());
    consul.nextMatching("GET", "/v1/kv/k?index=33&wait=20000ms", WAIT);
  }

  @Test
  void timingOutInTheQueueGivesUpThePlace() throws Exception {
    consul.on("PUT", "/v1/txn").reply(200, txnOk(queued(S, 40)));
    consul
        .on("GET", "/v1/kv/" + QUEUE + "?recurse")
        .reply(200, "[" + queued(OTHER, 30) + "," + queued(S, 40) + "]", "X-Consul-Index", "40");
    consul
        .onPrefix("GET", "/v1/kv/" + QUEUE + "?recurse&index=40&wait=")
        .alwaysWhen(never, 404, "");
    Locker l = store.newLock("k", null);
    long start = System.nanoTime();
    assertThrows(CannotLockException.class, () -> l.lock(Duration.ofMillis(300)));
    // A real agent answers when the wait (cut to the deadline) ends; this one never answers, so
    // the adapter gives up one connection timeout after the deadline.
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(9));
    consul.nextMatching("PUT", "/v1/session/destroy/" + S, WAIT);
  }

  @Test
  void anInterruptedWaiterLeavesTheQueue() throws Exception {
    consul.on("PUT", "/v1/txn").reply(200, txnOk(queued(S, 40)));
    consul
        .on("GET", "/v1/kv/" + QUEUE + "?recurse")
        .reply(200, "[" + queued(OTHER, 30) + "," + queued(S, 40) + "]", "X-Consul-Index", "40");
    consul
        .on("GET", "/v1/kv/" + QUEUE + "?recurse&index=40&wait=20000ms")
        .alwaysWhen(never, 404, "");
    Locker l = store.newLock("k", null);
    CompletableFuture<Thread> waiter = new CompletableFuture<>();
    Future<HeldLock> f =
        pool.submit(
            () -> {
              waiter.complete(Thread.currentThread());
              return l.lock();
            });
    consul.nextMatching("GET", "/v1/kv/" + QUEUE + "?recurse&index=40&wait=20000ms", WAIT);
    waiter.get().interrupt();
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
    assertInstanceOf(InterruptedException.class, e.getCause());
    consul.nextMatching("PUT", "/v1/session/destroy/" + S, WAIT);
    assertEquals(0, ((ConsulStore) store).http().inFlightCount(), "the blocking query was aborted");
  }

  @Test
  void theLockIsLostWhenItsKeyIsDeletedOrTakenOver() throws Exception {
    consul
        .on("PUT", "/v1/txn")
        .reply(200, txnOk(queued(S, 40)))
        .reply(200, txnOk(entryJson("k", null, 42, 42, 1, 0, S)));
    consul
        .on("GET", "/v1/kv/" + QUEUE + "?recurse")
        .reply(200, "[" + queued(S, 40) + "]", "X-Consul-Index", "40");
    consul
        .on("GET", "/v1/kv/k?index=42&wait=20s")
        .reply(200, "[" + entryJson("k", "v2", 42, 43, 1, 0, S) + "]", "X-Consul-Index", "43");
    consul.on("GET", "/v1/kv/k?index=43&wait=20s").reply(404, "", "X-Consul-Index", "44");
    HeldLock h = store.newLock("k", null).lock();
    h.lost().get(5, TimeUnit.SECONDS);
    consul.nextMatching("GET", "/v1/kv/k?index=43&wait=20s", WAIT);
    // The session still held our place in the queue: it is destroyed so the next waiter moves on.
    consul.nextMatching("PUT", "/v1/session/destroy/" + S, WAIT);
  }

  @Test
  void theSessionIsRenewedAndARenewal404LosesTheLock() throws Exception {
    scriptFreeLock();
    consul.on("PUT", "/v1/session/renew/" + S).reply(404, "Session id '" + S + "' not found");
    HeldLock h = store.newLock("k", null).lock();
    long locked = System.nanoTime();
    // Session TTL 10 s: renewed every third of it.
    consul.nextMatching("PUT", "/v1/session/renew/" + S, Duration.ofSeconds(6));
    long renewedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - locked);
    assertTrue(renewedAfterMs >= 3_000, "first renewal after a third of 10 s: " + renewedAfterMs);
    h.lost().get(5, TimeUnit.SECONDS);
  }

  @Test
  void stopRenewalStopsTheRenewals() throws Exception {
    scriptFreeLock();
    CompletableFuture<Void> stop = new CompletableFuture<>();
    store.newLock("k", LockOptions.builder().stopRenewal(stop).build()).lock();
    stop.complete(null);
    // The first renewal would come 3.33 s after the lock; wait past it.
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(4_000);
    while (System.nanoTime() < until) {
      RecordedConsul.Request r = consul.next(Duration.ofMillis(200));
      assertTrue(r == null || !r.path().startsWith("/v1/session/renew"), "renewed: " + r);
    }
  }

  @Test
  void closingTheStoreMakesAWaiterLeaveTheQueue() throws Exception {
    consul.on("PUT", "/v1/txn").reply(200, txnOk(queued(S, 40)));
    consul
        .on("GET", "/v1/kv/" + QUEUE + "?recurse")
        .reply(200, "[" + queued(OTHER, 30) + "," + queued(S, 40) + "]", "X-Consul-Index", "40");
    consul
        .on("GET", "/v1/kv/" + QUEUE + "?recurse&index=40&wait=20000ms")
        .alwaysWhen(never, 404, "");
    Locker l = store.newLock("k", null);
    Callable<HeldLock> lock = l::lock;
    Future<HeldLock> f = pool.submit(lock);
    consul.nextMatching("GET", "/v1/kv/" + QUEUE + "?recurse&index=40&wait=20000ms", WAIT);
    store.close();
    consul.nextMatching("PUT", "/v1/session/destroy/" + S, WAIT);
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
    assertInstanceOf(StoreException.class, e.getCause());
  }

  @Test
  void lockingTwiceIsAnErrorAndClosingTheStoreReleases() throws Exception {
    scriptFreeLock();
    Locker l = store.newLock("k", null);
    HeldLock h = l.lock();
    assertThrows(IllegalStateException.class, l::lock);
    store.close();
    consul.nextMatching("PUT", "/v1/session/destroy/" + S, WAIT);
    assertTrue(h.lost().isDone());
  }
}
