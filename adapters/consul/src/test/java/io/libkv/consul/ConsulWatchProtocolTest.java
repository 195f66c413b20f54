package io.libkv.consul;

import static io.libkv.consul.ConsulProtocolTest.b;
import static io.libkv.consul.RecordedConsul.entryJson;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.NotReachableException;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import io.libkv.store.WatchClosedException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Protocol tests of watches against <b>recorded API shapes</b> ({@link RecordedConsul}): the
 * blocking-query loop ({@code ?index=&wait=}, {@code X-Consul-Index}), Consul's documented rules
 * (reset when the index goes backwards, never block below 1), deletions seen as 404, and close()
 * cancelling the request in flight. Not a test against Consul.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ConsulWatchProtocolTest {
  static final Duration WAIT = Duration.ofSeconds(5);

  RecordedConsul consul;
  Store store;
  final CompletableFuture<Void> never = new CompletableFuture<>();

  @BeforeEach
  void start() throws IOException {
    consul = new RecordedConsul();
    consul.on("GET", "/v1/status/leader").always(200, "\"127.0.0.1:8300\"");
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
      consul.close();
    }
  }

  static String one(String key, String value, long create, long modify) {
    return "[" + entryJson(key, value, create, modify, 0, 0, null) + "]";
  }

  @Test
  void watchDeliversTheCurrentPairThenChangesThenADeletion() throws Exception {
    consul.on("GET", "/v1/kv/k").reply(200, one("k", "v1", 10, 10), "X-Consul-Index", "10");
    consul
        .on("GET", "/v1/kv/k?index=10&wait=20s")
        .reply(200, one("k", "v2", 10, 12), "X-Consul-Index", "12");
    consul.on("GET", "/v1/kv/k?index=12&wait=20s").reply(404, "", "X-Consul-Index", "13");
    consul.on("GET", "/v1/kv/k?index=13&wait=20s").alwaysWhen(never, 404, "");
    try (Watch<KVPair> w = store.watch("k")) {
      assertEquals(new KVPair("k", b("v1"), 10), w.poll(WAIT));
      assertEquals(new KVPair("k", b("v2"), 12), w.poll(WAIT));
      KVPair del = w.poll(WAIT);
      assertNotNull(del);
      assertTrue(del.isDeletion());
      assertEquals(13, del.lastIndex());
      consul.nextMatching("GET", "/v1/kv/k?index=13&wait=20s", WAIT);
    }
  }

  @Test
  void aMissingKeyIsWaitedForAndATimeoutWakeUpIsNoEvent() throws Exception {
    consul.on("GET", "/v1/kv/k").reply(404, "", "X-Consul-Index", "3");
    // Blocking queries may return with no change (timeout): same index, no event.
    consul
        .on("GET", "/v1/kv/k?index=3&wait=20s")
        .reply(404, "", "X-Consul-Index", "3")
        .reply(200, one("k", "v", 5, 5), "X-Consul-Index", "5");
    consul
        .on("GET", "/v1/kv/k?index=5&wait=20s")
        .reply(200, one("k", "v", 5, 5), "X-Consul-Index", "6");
    consul.on("GET", "/v1/kv/k?index=6&wait=20s").alwaysWhen(never, 404, "");
    try (Watch<KVPair> w = store.watch("k")) {
      KVPair p = w.poll(WAIT);
      assertEquals(new KVPair("k", b("v"), 5), p, "first event is the created key, no deletion");
      consul.nextMatching("GET", "/v1/kv/k?index=6&wait=20s", WAIT);
      assertNull(w.poll(Duration.ofMillis(200)), "same ModifyIndex again is no new event");
    }
  }

  @Test
  void anIndexThatGoesBackwardsRestartsTheLoopWithoutIndex() throws Exception {
    consul
        .on("GET", "/v1/kv/k")
        .reply(200, one("k", "v1", 10, 20), "X-Consul-Index", "20")
        .reply(200, one("k", "v3", 10, 7), "X-Consul-Index", "7");
    consul
        .on("GET", "/v1/kv/k?index=20&wait=20s")
        .reply(200, one("k", "v2", 10, 6), "X-Consul-Index", "6");
    consul.on("GET", "/v1/kv/k?index=7&wait=20s").alwaysWhen(never, 404, "");
    try (Watch<KVPair> w = store.watch("k")) {
      assertEquals(20, w.poll(WAIT).lastIndex());
      assertEquals(6, w.poll(WAIT).lastIndex());
      // After the index went from 20 to 6 the next request carries no index at all.
      consul.nextMatching("GET", "/v1/kv/k?index=20&wait=20s", WAIT);
      RecordedConsul.Request after = consul.next(WAIT);
      assertEquals("/v1/kv/k", after.pathAndQuery());
      assertEquals(7, w.poll(WAIT).lastIndex());
      consul.nextMatching("GET", "/v1/kv/k?index=7&wait=20s", WAIT);
    }
  }

  @Test
  void anIndexOfZeroIsNeverUsedToBlock() throws Exception {
    consul.on("GET", "/v1/kv/k").reply(404, "", "X-Consul-Index", "0");
    consul.on("GET", "/v1/kv/k?index=1&wait=20s").alwaysWhen(never, 404, "");
    try (Watch<KVPair> w = store.watch("k")) {
      consul.nextMatching("GET", "/v1/kv/k?index=1&wait=20s", WAIT);
      assertNull(w.poll(Duration.ofMillis(100)));
    }
  }

  @Test
  void closeCancelsTheRequestInFlightAtOnce() throws Exception {
    consul.on("GET", "/v1/kv/k").reply(200, one("k", "v1", 10, 10), "X-Consul-Index", "10");
    consul.on("GET", "/v1/kv/k?index=10&wait=20s").alwaysWhen(never, 404, "");
    ConsulStore cs = (ConsulStore) store;
    Watch<KVPair> w = store.watch("k");
    assertNotNull(w.poll(WAIT));
    consul.nextMatching("GET", "/v1/kv/k?index=10&wait=20s", WAIT);
    // The agent may record the request before the sending thread has registered the exchange it
    // has just started (sendAsync returns after the request can already be on the wire).
    awaitInFlight(cs.http(), 1);
    assertEquals(1, cs.http().inFlightCount(), "the blocking query is in flight");
    long start = System.nanoTime();
    w.close();
    assertNull(w.poll(Duration.ofSeconds(1)));
    assertThrows(WatchClosedException.class, w::take);
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2), "closed at once");
    assertEquals(0, cs.http().inFlightCount(), "the HTTP exchange was cancelled");
    assertNull(consul.next(Duration.ofMillis(300)), "no request after close");
  }

  @Test
  void closeAbortsTheBlockingQueryOnTheWire() throws Exception {
    try (HangingAgent agent = new HangingAgent("/v1/kv/k?index=10&wait=20s")) {
      agent.answer("/v1/status/leader", 200, "\"127.0.0.1:8300\"", 0);
      agent.answer("/v1/kv/k", 200, one("k", "v1", 10, 10), 10);
      try (Store s =
          LibKV.newStore(
              Backend.CONSUL,
              List.of(agent.endpoint()),
              Config.builder().option("consul.watchWait", "20s").build())) {
        Watch<KVPair> w = s.watch("k");
        assertNotNull(w.poll(WAIT));
        agent.hangArrived.get(5, TimeUnit.SECONDS);
        w.close();
        agent.clientClosed.get(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void closingTheStoreClosesItsWatches() throws Exception {
    consul.on("GET", "/v1/kv/d/?recurse").reply(404, "", "X-Consul-Index", "2");
    consul.on("GET", "/v1/kv/d/?recurse&index=2&wait=20s").alwaysWhen(never, 404, "");
    Watch<List<KVPair>> t = store.watchTree("d");
    assertEquals(List.of(), t.poll(WAIT));
    consul.nextMatching("GET", "/v1/kv/d/?recurse&index=2&wait=20s", WAIT);
    store.close();
    assertTrue(t.isClosed());
    assertThrows(WatchClosedException.class, t::take);
    // An exchange registered by its sending thread only after the close aborts itself.
    ConsulHttp http = ((ConsulStore) store).http();
    awaitInFlight(http, 0);
    assertEquals(0, http.inFlightCount());
  }

  @Test
  void watchTreeSendsTheWholeFilteredListAfterEachChange() throws Exception {
    consul.on("GET", "/v1/kv/d/?recurse").reply(404, "", "X-Consul-Index", "2");
    consul
        .on("GET", "/v1/kv/d/?recurse&index=2&wait=20s")
        .reply(
            200,
            "["
                + entryJson("d/b", "2", 4, 4, 0, 0, null)
                + ","
                + entryJson("d/a", "1", 3, 3, 0, 0, null)
                + "]",
            "X-Consul-Index",
            "4");
    consul
        .on("GET", "/v1/kv/d/?recurse&index=4&wait=20s")
        .reply(200, "[" + entryJson("d/a", "1", 3, 3, 0, 0, null) + "]", "X-Consul-Index", "5");
    consul.on("GET", "/v1/kv/d/?recurse&index=5&wait=20s").alwaysWhen(never, 404, "");
    try (Watch<List<KVPair>> t = store.watchTree("d")) {
      assertEquals(List.of(), t.poll(WAIT), "first event: the current, empty list");
      List<KVPair> two = t.poll(WAIT);
      assertEquals(List.of("d/a", "d/b"), two.stream().map(KVPair::key).toList());
      List<KVPair> one = t.poll(WAIT);
      assertEquals(List.of("d/a"), one.stream().map(KVPair::key).toList());
      assertArrayEquals(b("1"), one.get(0).value());
    }
  }

  @Test
  void aWatchWhoseAgentIsGoneFailsWithTheCause() throws Exception {
    store.close();
    store =
        LibKV.newStore(
            Backend.CONSUL,
            List.of(consul.endpoint()),
            Config.builder()
                .connectionTimeout(Duration.ofSeconds(2))
                .option("consul.watchWait", "20s")
                .build());
    consul.on("GET", "/v1/kv/k").reply(200, one("k", "v1", 10, 10), "X-Consul-Index", "10");
    consul.on("GET", "/v1/kv/k?index=10&wait=20s").alwaysWhen(never, 404, "");
    Watch<KVPair> w = store.watch("k");
    assertNotNull(w.poll(WAIT));
    consul.nextMatching("GET", "/v1/kv/k?index=10&wait=20s", WAIT);
    consul.close(); // the agent goes away for good
    long start = System.nanoTime();
    StoreException e = assertThrows(StoreException.class, () -> w.poll(Duration.ofSeconds(10)));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(tookMs < 8_000, "failed within about the connection timeout: " + tookMs + " ms");
    Throwable c = e;
    while (c != null && !(c instanceof NotReachableException)) {
      c = c.getCause();
    }
    assertInstanceOf(NotReachableException.class, c, "cause: " + e);
    assertThrows(StoreException.class, () -> w.poll(Duration.ofMillis(10)), "and again");
  }

  /** Waits up to {@link #WAIT} for {@code http} to count {@code n} exchanges in flight. */
  private static void awaitInFlight(ConsulHttp http, int n) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (http.inFlightCount() != n && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
  }
}
