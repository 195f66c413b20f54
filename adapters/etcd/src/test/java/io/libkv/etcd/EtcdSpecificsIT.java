package io.libkv.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.HeldLock;
import io.libkv.store.HistoryCompactedException;
import io.libkv.store.KVPair;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.Locker;
import io.libkv.store.Store;
import io.libkv.store.Watch;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the conformance suite cannot see from outside: how the adapter lays keys out in etcd
 * (buckets, the internal lock prefix), compacted history, and a lease revoked behind a holder's
 * back.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EtcdSpecificsIT {
  private static EtcdCluster etcd;
  private static Client raw;

  @BeforeAll
  static void startEtcd() throws Exception {
    etcd = EtcdCluster.start(1);
    raw =
        Client.builder()
            .endpoints(etcd.endpoints().stream().map(e -> "http://" + e).toArray(String[]::new))
            .build();
  }

  @AfterAll
  static void stopEtcd() {
    if (raw != null) {
      raw.close();
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  private static Store open(Config.Builder config) {
    return LibKV.newStore(Backend.ETCD, etcd.endpoints(), config.build());
  }

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  @Test
  void resumingAWatchFromCompactedHistoryNamesTheOldestRevisionKept() throws Exception {
    try (Store store = open(Config.builder())) {
      store.put("compact/k", "1".getBytes(UTF_8), null);
      long old = store.get("compact/k").lastIndex();
      store.put("compact/k", "2".getBytes(UTF_8), null);
      store.put("compact/k", "3".getBytes(UTF_8), null);
      long now = store.get("compact/k").lastIndex();
      raw.getKVClient().compact(now).get(30, TimeUnit.SECONDS);

      HistoryCompactedException e =
          assertThrows(HistoryCompactedException.class, () -> store.watch("compact/k", old));
      assertEquals("compact/k", e.key());
      assertEquals(old, e.requestedAfter());
      assertEquals(now, e.oldestAvailable());
      assertTrue(e.getMessage().contains("oldest index available is " + now), e.getMessage());

      // From the compact revision on, history is still there.
      try (Watch<KVPair> w = store.watch("compact/k", now - 1)) {
        KVPair ev = w.poll(Duration.ofSeconds(10));
        assertNotNull(ev);
        assertEquals(now, ev.lastIndex());
        assertArrayEquals("3".getBytes(UTF_8), ev.value());
      }
    }
  }

  @Test
  void bucketIsAKeyPrefixOnTheServer() {
    try (Store a = open(Config.builder().bucket("tenant-a"));
        Store b = open(Config.builder().bucket("tenant-b"))) {
      a.put("cfg/x", "A".getBytes(UTF_8), null);
      b.put("cfg/x", "B".getBytes(UTF_8), null);
      assertEquals("A", a.get("cfg/x").valueAsString());
      assertEquals("B", b.get("cfg/x").valueAsString());
      assertEquals(List.of("cfg/x"), a.list("cfg").stream().map(KVPair::key).toList());
      a.deleteTree("cfg");
      assertThrows(KeyNotFoundException.class, () -> a.get("cfg/x"));
      assertEquals("B", b.get("cfg/x").valueAsString());
    }
    List<KeyValue> stored = raw.getKVClient().get(bs("tenant-b/cfg/x")).join().getKvs();
    assertEquals(1, stored.size(), "the bucket is a plain prefix in etcd");
  }

  @Test
  void lockQueuesLiveUnderTheInternalPrefixOnly() throws Exception {
    try (Store store = open(Config.builder())) {
      Locker lock =
          store.newLock(
              "locks/a", io.libkv.store.LockOptions.builder().value(new byte[] {7}).build());
      lock.lock(Duration.ofSeconds(10));
      List<KeyValue> internal =
          raw.getKVClient()
              .get(bs(EtcdStore.INTERNAL_PREFIX), GetOption.builder().isPrefix(true).build())
              .join()
              .getKvs();
      assertEquals(1, internal.size(), internal.toString());
      String waiter = internal.get(0).getKey().toString(UTF_8);
      assertTrue(waiter.startsWith(EtcdStore.INTERNAL_PREFIX + "locks/a\u0000"), waiter);
      // The lock's own key and its waiter key share the lease.
      KeyValue own = raw.getKVClient().get(bs("locks/a")).join().getKvs().get(0);
      assertEquals(internal.get(0).getLease(), own.getLease());
      assertFalse(store.list("locks").stream().anyMatch(p -> p.key().contains("\u0000")));
      lock.unlock();
      assertEquals(
          0,
          raw.getKVClient()
              .get(bs(EtcdStore.INTERNAL_PREFIX), GetOption.builder().isPrefix(true).build())
              .join()
              .getCount(),
          "unlock removes the waiter key");
      assertFalse(store.exists("locks/a"), "unlock removes the lock's key");
    }
  }

  @Test
  void lockIsLostWhenItsLeaseIsRevokedBehindItsBack() throws Exception {
    try (Store store = open(Config.builder())) {
      Locker lock =
          store.newLock(
              "revoked/l", io.libkv.store.LockOptions.builder().ttl(Duration.ofSeconds(3)).build());
      HeldLock held = lock.lock(Duration.ofSeconds(10));
      long lease = raw.getKVClient().get(bs("revoked/l")).join().getKvs().get(0).getLease();
      raw.getLeaseClient().revoke(lease).get(30, TimeUnit.SECONDS);
      // The next keep-alive (every ttl/3) finds the lease gone.
      held.lost().get(10, TimeUnit.SECONDS);
      lock.unlock(); // nothing to do any more, and no error
      HeldLock again = lock.lock(Duration.ofSeconds(10));
      assertTrue(again.fencingToken() > held.fencingToken());
      lock.unlock();
    }
  }
}
