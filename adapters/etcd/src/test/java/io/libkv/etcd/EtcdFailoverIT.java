package io.libkv.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.HeldLock;
import io.libkv.store.KVPair;
import io.libkv.store.Locker;
import io.libkv.store.NotReachableException;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A three-member etcd cluster loses its leader in the middle of a stream of writes: the store
 * (given all three endpoints) keeps working, every acknowledged write is still there, a watch
 * opened before the crash sees the writes made after it, and locks still work. Then a second member
 * dies and the quorum is gone: calls and the watch end with {@link NotReachableException}.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class EtcdFailoverIT {
  private static final int WRITES = 60;

  @Test
  void leaderCrashLosesNoAcknowledgedWrite() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.start(3)) {
      // The first client of a JVM loads gRPC, Netty and Vert.x: do that with the default timeout.
      LibKV.newStore(Backend.ETCD, etcd.endpoints(), null).close();
      run(etcd);
    }
  }

  private static void run(EtcdCluster etcd) throws Exception {
    try (Store store =
        LibKV.newStore(
            Backend.ETCD,
            etcd.endpoints(),
            Config.builder().connectionTimeout(Duration.ofSeconds(5)).build())) {
      Watch<KVPair> watch = store.watch("failover/last");
      Map<String, String> acknowledged = new TreeMap<>();
      int killedLeader = -1;
      int retries = 0;
      for (int i = 0; i < WRITES; i++) {
        if (i == WRITES / 3) {
          killedLeader = awaitLeader(etcd);
          etcd.kill(killedLeader);
        }
        String k = String.format("failover/k%03d", i);
        String v = "v" + i;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
          try {
            store.put(k, v.getBytes(UTF_8), null);
            store.put("failover/last", v.getBytes(UTF_8), null);
            acknowledged.put(k, v);
            break;
          } catch (StoreException e) {
            // An election is under way (no leader, leader changed, connection refused): a put is
            // safe to repeat.
            retries++;
            if (retries <= 5) {
              System.out.println("EtcdFailoverIT: retrying after " + e);
            }
            if (System.nanoTime() > deadline) {
              throw e;
            }
          }
        }
      }
      assertTrue(killedLeader >= 0);
      assertEquals(WRITES, acknowledged.size());

      // Every acknowledged write is there, read through the surviving members.
      List<String> survivors = new ArrayList<>();
      for (int i = 0; i < etcd.size(); i++) {
        if (i != killedLeader) {
          survivors.add(etcd.endpoint(i));
        }
      }
      try (Store reader = LibKV.newStore(Backend.ETCD, survivors, null)) {
        Map<String, String> stored = new TreeMap<>();
        for (KVPair p : reader.list("failover")) {
          if (p.key().startsWith("failover/k")) {
            stored.put(p.key(), p.valueAsString());
          }
        }
        assertEquals(acknowledged, stored, "acknowledged writes after the leader crash");
      }

      // The watch opened before the crash followed the writes made after it.
      String lastSeen = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!("v" + (WRITES - 1)).equals(lastSeen) && System.nanoTime() < deadline) {
        KVPair ev = watch.poll(Duration.ofSeconds(5));
        if (ev != null) {
          lastSeen = ev.valueAsString();
        }
      }
      assertEquals("v" + (WRITES - 1), lastSeen, "watch survived the failover");

      // Locks work on the two remaining members.
      Locker lock = store.newLock("failover/lock", null);
      HeldLock held = lock.lock(Duration.ofSeconds(20));
      assertNotNull(held);
      lock.unlock();

      // Losing a second member loses the quorum: calls and the open watch end with
      // NotReachableException instead of hanging or going silent.
      int second = killedLeader == 0 ? 1 : 0;
      etcd.kill(second);
      long start = System.nanoTime();
      assertThrows(NotReachableException.class, () -> store.get("failover/last"));
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(tookMs < 9_000, "NotReachable within the 5 s timeout (+ slack), took " + tookMs);
      StoreException watchEnd =
          assertThrows(StoreException.class, () -> drain(watch, Duration.ofSeconds(40)));
      assertInstanceOf(NotReachableException.class, watchEnd.getCause(), watchEnd.toString());
      System.out.println(
          "EtcdFailoverIT: killed member " + killedLeader + ", " + retries + " retried puts");
    }
  }

  /** Reads events until the watch throws or {@code within} passes. */
  private static void drain(Watch<KVPair> watch, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      watch.poll(Duration.ofMillis(500));
    }
  }

  private static int awaitLeader(EtcdCluster etcd) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      int leader = etcd.leader();
      if (leader >= 0) {
        return leader;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no etcd leader within 30 s");
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
  }
}
