package io.libkv.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.HeldLock;
import io.libkv.store.KVPair;
import io.libkv.store.LockOptions;
import io.libkv.store.NotReachableException;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The server goes away and comes back: calls fail with {@link NotReachableException} within the
 * connection timeout, open watches end with that cause, a held lock reports itself lost, and the
 * same store works again after the restart.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EtcdRestartIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(2);

  /** Scheduling slack on a loaded 2-core machine. */
  private static final Duration SLACK = Duration.ofMillis(2500);

  @Test
  void callsAndWatchesFailWithNotReachableThenTheStoreRecovers() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.start(1)) {
      // Load gRPC, Netty and Vert.x once with a generous timeout: on a busy machine the first
      // client of a JVM needs seconds before its first call, more than the short timeout below.
      LibKV.newStore(Backend.ETCD, etcd.endpoints(), null).close();
      try (Store store =
          LibKV.newStore(
              Backend.ETCD,
              etcd.endpoints(),
              Config.builder().connectionTimeout(TIMEOUT).build())) {
        checkOutageAndRecovery(etcd, store);
      }
    }
  }

  private static void checkOutageAndRecovery(EtcdCluster etcd, Store store) throws Exception {
    store.put("restart/a", "1".getBytes(UTF_8), null);
    Watch<KVPair> watch = store.watch("restart/a");
    Watch<List<KVPair>> tree = store.watchTree("restart");
    assertNotNull(watch.poll(Duration.ofSeconds(10)), "current value");
    assertNotNull(tree.poll(Duration.ofSeconds(10)), "current list");

    HeldLock held =
        store
            .newLock("restartlock", LockOptions.builder().ttl(Duration.ofSeconds(2)).build())
            .lock(Duration.ofSeconds(10));

    etcd.kill(0);
    long killed = System.nanoTime();

    long start = System.nanoTime();
    NotReachableException e =
        assertThrows(NotReachableException.class, () -> store.get("restart/a"));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(
        tookMs <= TIMEOUT.plus(SLACK).toMillis(),
        "NotReachable within the connection timeout, took " + tookMs + " ms");
    assertEquals(etcd.endpoints(), e.endpoints());
    assertThrows(NotReachableException.class, () -> store.put("restart/b", new byte[] {1}, null));

    // The watches end with the cause instead of going silent.
    StoreException watchFailure = assertThrows(StoreException.class, watch::take);
    assertInstanceOf(NotReachableException.class, watchFailure.getCause(), watchFailure.toString());
    StoreException again =
        assertThrows(StoreException.class, () -> watch.poll(Duration.ofMillis(10)));
    assertInstanceOf(NotReachableException.class, again.getCause());
    StoreException treeFailure =
        assertThrows(StoreException.class, () -> tree.poll(Duration.ofSeconds(30)));
    assertInstanceOf(NotReachableException.class, treeFailure.getCause());
    assertTrue(watch.isClosed());

    // With no keep-alive getting through, the holder is told it lost the lock once the lease
    // may have expired on the server: within its TTL, whatever the server does meanwhile.
    held.lost().get(10, TimeUnit.SECONDS);
    long lostAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
    assertTrue(lostAfterMs <= 2000 + SLACK.toMillis(), "lost after " + lostAfterMs + " ms");

    etcd.restart(0);

    // gRPC reconnects with a backoff; the store needs no reopening.
    awaitWorking(store, Duration.ofSeconds(30));
    // Calls queued while the server was away were dropped at their deadline, not sent late.
    assertFalse(store.exists("restart/b"), "a put that failed as NotReachable landed later");
    store.put("restart/a", "2".getBytes(UTF_8), null);
    assertArrayEquals("2".getBytes(UTF_8), store.get("restart/a").value());
    try (Watch<KVPair> fresh = store.watch("restart/a")) {
      KVPair now = fresh.poll(Duration.ofSeconds(10));
      assertNotNull(now);
      assertArrayEquals("2".getBytes(UTF_8), now.value());
      store.put("restart/a", "3".getBytes(UTF_8), null);
      KVPair next = fresh.poll(Duration.ofSeconds(10));
      assertNotNull(next, "a new watch delivers changes after the restart");
      assertArrayEquals("3".getBytes(UTF_8), next.value());
    }
  }

  @Test
  void openingAStoreWithNoServerFailsWithinTheTimeout() {
    // The first client in a JVM loads gRPC, Netty and Vert.x (seconds on a busy machine); the
    // timeout bounds the wait for the network, so measure a warm attempt.
    assertThrows(
        NotReachableException.class,
        () ->
            LibKV.newStore(
                Backend.ETCD,
                List.of("127.0.0.1:1"),
                Config.builder().connectionTimeout(TIMEOUT).build()));
    long start = System.nanoTime();
    NotReachableException e =
        assertThrows(
            NotReachableException.class,
            () ->
                LibKV.newStore(
                    Backend.ETCD,
                    List.of("127.0.0.1:1"),
                    Config.builder().connectionTimeout(TIMEOUT).build()));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(tookMs <= TIMEOUT.plus(SLACK).toMillis(), "took " + tookMs + " ms");
    assertEquals(List.of("127.0.0.1:1"), e.endpoints());
  }

  private static void awaitWorking(Store store, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      try {
        store.exists("restart/a");
        return;
      } catch (NotReachableException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        TimeUnit.MILLISECONDS.sleep(100);
      }
    }
  }
}
