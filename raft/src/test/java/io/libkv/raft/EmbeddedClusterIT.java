package io.libkv.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Config;
import io.libkv.store.HeldLock;
import io.libkv.store.KVPair;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import io.libkv.store.WriteOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Failover, restart, membership, leases across leader changes, slow watchers. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EmbeddedClusterIT {
  @TempDir Path dir;

  static void waitUntil(BooleanSupplier c, Duration within, String what)
      throws InterruptedException {
    long end = System.nanoTime() + within.toNanos();
    while (!c.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("timed out after " + within + " waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  @Test
  void everyMemberReportsItsRoleIndexesAndDisk() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(3, dir)) {
      EmbeddedNode leader = cluster.awaitLeader();
      try (Store s = leader.openStore()) {
        for (int i = 0; i < 20; i++) {
          s.put("status/" + i, "v".getBytes(UTF_8), null);
        }
      }
      long leaderCommit = leader.status().commitIndex();
      for (String id : cluster.runningIds()) {
        EmbeddedNode n = cluster.node(id);
        // Every member reaches the leader's commit index and applies it.
        waitUntil(
            () -> n.status().ready() && n.status().appliedIndex() >= leaderCommit,
            Duration.ofSeconds(30),
            id + " caught up: " + n.status());
        MemberStatus st = n.status();
        assertEquals(id, st.id());
        assertEquals(n.endpoint(), st.endpoint());
        assertEquals(
            n == leader ? MemberStatus.Role.LEADER : MemberStatus.Role.FOLLOWER,
            st.role(),
            "" + st);
        assertEquals(leader.id(), st.leaderId().orElse(null));
        assertTrue(st.term() > 0, "term " + st);
        assertTrue(st.logBytes() > 0, "log bytes " + st);
        assertTrue(st.diskFreeBytes() > 0, "free disk " + st);
        assertTrue(st.failure().isEmpty());
      }
      String follower =
          cluster.runningIds().stream().filter(id -> !id.equals(leader.id())).findFirst().get();
      EmbeddedNode stopped = cluster.node(follower);
      cluster.stop(follower);
      MemberStatus st = stopped.status();
      assertEquals(MemberStatus.Role.STOPPED, st.role(), "" + st);
      assertFalse(st.ready());
    }
  }

  @Test
  void failoverLosesNoAcknowledgedWrite() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(3, dir)) {
      String leader = cluster.awaitLeader().id();
      List<String> followers = new ArrayList<>(cluster.runningIds());
      followers.remove(leader);
      Map<String, String> acked = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<?>> writers = new ArrayList<>();
      List<Store> stores = new ArrayList<>();
      try {
        for (int w = 0; w < 4; w++) {
          Store s = cluster.openStore(followers.get(w % 2));
          stores.add(s);
          int id = w;
          writers.add(
              pool.submit(
                  () -> {
                    for (int i = 0; !stop.get(); i++) {
                      String k = "failover/w" + id + "/" + i;
                      try {
                        s.put(k, b("v" + i), null);
                        acked.put(k, "v" + i);
                      } catch (StoreException e) {
                        // Not acknowledged: may or may not be applied.
                      }
                    }
                    return null;
                  }));
        }
        waitUntil(() -> acked.size() > 100, Duration.ofSeconds(30), "writes before the failover");
        int before = acked.size();
        cluster.stop(leader);
        String newLeader = cluster.awaitLeader().id();
        assertNotEquals(leader, newLeader);
        waitUntil(
            () -> acked.size() > before + 100, Duration.ofSeconds(30), "writes after the failover");
        stop.set(true);
        for (Future<?> f : writers) {
          f.get(30, TimeUnit.SECONDS);
        }
      } finally {
        stop.set(true);
        pool.shutdownNow();
        stores.forEach(Store::close);
      }
      cluster.restart(leader);
      for (String id : cluster.runningIds()) {
        try (Store s = cluster.openStore(id)) {
          for (Map.Entry<String, String> e : acked.entrySet()) {
            assertArrayEquals(b(e.getValue()), s.get(e.getKey()).value(), e.getKey() + " on " + id);
          }
        }
      }
    }
  }

  /**
   * Gets from many threads through one client-only store are coalesced into batched queries: each
   * thread must still read exactly its own latest acknowledged write (a mix-up of answers within a
   * batch, or a batch served before its writes, shows as a wrong value).
   */
  @Test
  void coalescedClientOnlyGetsReadEveryThreadsLatestWrite() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(3, dir)) {
      cluster.awaitLeader();
      int threads = 16;
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try (Store client =
              io.libkv.LibKV.newStore(
                  io.libkv.store.Backend.EMBEDDED, cluster.endpoints(), Config.defaults());
          Store member = cluster.openStore(cluster.runningIds().get(0))) {
        List<Future<Integer>> readers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          String key = "coalesce/t" + t;
          readers.add(
              pool.submit(
                  () -> {
                    int checked = 0;
                    for (int i = 0; i < 25; i++) {
                      String v = key + "=" + i;
                      // Half the writes through the client, half through a member's store.
                      (i % 2 == 0 ? client : member).put(key, b(v), null);
                      assertArrayEquals(b(v), client.get(key).value(), key + " after write " + i);
                      assertThrows(
                          KeyNotFoundException.class, () -> client.get(key + "/absent"), key);
                      checked++;
                    }
                    return checked;
                  }));
        }
        for (Future<Integer> f : readers) {
          assertEquals(25, f.get(90, TimeUnit.SECONDS));
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void everyNodeRestartsWithItsDataEvenWithoutItsLmdbCopyAndIndicesKeepGrowing() throws Exception {
    Config config = Config.builder().option(RaftSettings.SNAPSHOT_THRESHOLD, "40").build();
    long last;
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(3).baseDir(dir).config(config).start()) {
      try (Store s = cluster.openStore()) {
        for (int i = 0; i < 60; i++) {
          s.put("restart/k" + i, b("v" + i), null);
        }
        last = s.get("restart/k59").lastIndex();
      }
      for (String id : cluster.runningIds()) {
        cluster.stop(id);
      }
      assertTrue(cluster.runningIds().isEmpty());
      // n3 also lost its LMDB copy: it is rebuilt from its last snapshot and the Raft log.
      FileTrees.delete(dir.resolve("n3").resolve("kv"));
      List<String> all = List.of("n1", "n2", "n3");
      all.parallelStream().forEach(cluster::restart);
      // No waiting for a leader: a store on a just-restarted member retries until one is elected.
      for (String id : all) {
        try (Store s = cluster.openStore(id)) {
          assertEquals(60, s.list("restart").size(), "keys on " + id);
          assertArrayEquals(b("v42"), s.get("restart/k42").value());
        }
      }
      for (String id : all) {
        try (Store s = cluster.openStore(id)) {
          s.put("restart-after/" + id, b("x"), null);
          long now = s.get("restart-after/" + id).lastIndex();
          assertTrue(now > last, "indices grow after a restart: " + now + " after " + last);
          last = now;
        }
      }
    }
  }

  @Test
  void newMemberCatchesUpBySnapshotWhileMembershipChangesUnderLoad() throws Exception {
    Config config = Config.builder().option(RaftSettings.SNAPSHOT_THRESHOLD, "20").build();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(3).baseDir(dir).config(config).start()) {
      try (Store s = cluster.openStore()) {
        for (int i = 0; i < 80; i++) {
          s.put("join/k" + i, b("v" + i), null);
        }
      }
      // The log behind the leader's snapshot is purged: a new member can only start from it.
      Path leaderSm = cluster.awaitLeader().dataDir().resolve("raft");
      waitUntil(
          () -> snapshotFiles(leaderSm) > 0, Duration.ofSeconds(30), "a snapshot on the leader");
      // Membership changes under load: a writer on n3 goes on while n4 joins and n1 leaves.
      Map<String, String> acked = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      Store writerStore = cluster.openStore("n3");
      Thread writer =
          new Thread(
              () -> {
                for (int i = 0; !stop.get(); i++) {
                  try {
                    writerStore.put("load/k" + i, b("v" + i), null);
                    acked.put("load/k" + i, "v" + i);
                  } catch (StoreException e) {
                    // unknown outcome: not counted
                  }
                }
              },
              "membership-load");
      writer.start();
      EmbeddedNode n4;
      try {
        n4 = cluster.addNode();
        assertEquals("n4", n4.id());
        assertTrue(snapshotFiles(n4.dataDir().resolve("raft")) > 0, "n4 installed a snapshot");
        try (Store s = cluster.openStore("n4")) {
          assertEquals(80, s.list("join").size());
          s.put("join/from-n4", b("x"), null);
        }
        cluster.removeNode("n1");
        int before = acked.size();
        waitUntil(() -> acked.size() > before + 20, Duration.ofSeconds(60), "writes go on");
      } finally {
        stop.set(true);
        writer.join(30_000);
        writerStore.close();
      }
      assertTrue(acked.size() > 20, "writes during the changes: " + acked.size());
      for (String id : List.of("n2", "n4")) {
        try (Store s = cluster.openStore(id)) {
          assertArrayEquals(b("x"), s.get("join/from-n4").value());
          assertEquals(81, s.list("join").size());
          for (Map.Entry<String, String> e : acked.entrySet()) {
            assertArrayEquals(b(e.getValue()), s.get(e.getKey()).value(), e.getKey() + " on " + id);
          }
        }
      }
    }
  }

  /**
   * Stores opened before a member joined reach it once it leads: a member's store through its
   * member's view of the configuration, a client-only store (given the first three endpoints)
   * through the members' redirects.
   */
  @Test
  void storesOpenedBeforeAMemberJoinedWriteThroughItWhenItLeads() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(3, dir)) {
      cluster.awaitLeader();
      List<String> firstThree = cluster.endpoints();
      try (Store onMember = cluster.openStore("n3");
          Store client =
              io.libkv.LibKV.newStore(
                  io.libkv.store.Backend.EMBEDDED, firstThree, Config.defaults())) {
        onMember.put("joined/before", b("1"), null);
        client.put("joined/before-client", b("1"), null);
        EmbeddedNode n4 = cluster.addNode();
        try (ClusterAdmin admin = n4.admin()) {
          admin.transferLeadership("n4");
        }
        assertEquals("n4", cluster.awaitLeader().id());
        onMember.put("joined/after", b("2"), null);
        client.put("joined/after-client", b("2"), null);
        cluster.removeNode("n1");
        onMember.put("joined/after-removal", b("3"), null);
        client.put("joined/after-removal-client", b("3"), null);
        assertArrayEquals(b("3"), client.get("joined/after-removal").value());
        assertArrayEquals(b("3"), onMember.get("joined/after-removal-client").value());
      }
    }
  }

  private static long snapshotFiles(Path raftDir) {
    try (Stream<Path> s = Files.walk(raftDir)) {
      return s.filter(p -> p.getFileName().toString().matches("snapshot\\.\\d+_\\d+")).count();
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      return 0; // a snapshot's temporary files vanished during the walk: the caller polls again
    }
  }

  @Test
  void ttlAndLockExpiryAreCorrectAcrossALeaderChange() throws Exception {
    FakeClock clock = new FakeClock();
    Config config = Config.builder().clock(clock).build();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(3).baseDir(dir).config(config).start()) {
      String leader = cluster.awaitLeader().id();
      String follower =
          cluster.runningIds().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      try (Store s = cluster.openStore(follower)) {
        s.put("ttl/key", b("v"), WriteOptions.ttl(Duration.ofSeconds(10)));
        CompletableFuture<Void> stopRenewal = new CompletableFuture<>();
        Locker locker =
            s.newLock(
                "ttl/lock",
                LockOptions.builder().ttl(Duration.ofSeconds(10)).stopRenewal(stopRenewal).build());
        HeldLock held = locker.lock();
        stopRenewal.complete(null);

        // 8 s pass on the old leader's clock; then it stops and another member leads.
        clock.advance(Duration.ofSeconds(8));
        cluster.stop(leader);
        cluster.awaitLeader();
        // 9 s after the put: the old deadline is gone, but the new leader gave a full TTL.
        clock.advance(Duration.ofSeconds(4));
        Thread.sleep(300); // let the reaper run a few rounds: nothing may expire early
        assertArrayEquals(b("v"), s.get("ttl/key").value(), "nothing expires early");
        assertFalse(held.lost().isDone(), "the lock is not lost early");
        clock.advance(Duration.ofSeconds(7));
        waitUntil(() -> !s.exists("ttl/key"), Duration.ofSeconds(10), "the key expires");
        held.lost().get(10, TimeUnit.SECONDS);
        assertThrows(KeyNotFoundException.class, () -> s.get("ttl/lock"));
      }
    }
  }

  @Test
  void aWatcherFarBehindResyncsToTheLatestStateWithoutSlowingWriters() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(1, dir);
        Store s = cluster.openStore()) {
      try (Watch<KVPair> w = s.watch("slow/key")) {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        long start = System.nanoTime();
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          int id = t;
          fs.add(
              pool.submit(
                  () -> {
                    for (int i = 0; i < 100; i++) {
                      s.put("slow/key", b(id + "-" + i), null);
                    }
                    return null;
                  }));
        }
        for (Future<?> f : fs) {
          f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        long writeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        KVPair latest = s.get("slow/key");
        // The watcher read nothing during 800 writes; now it drains: increasing indices, ending
        // at the latest state.
        long lastIndex = 0;
        KVPair e;
        int n = 0;
        while ((e = w.poll(Duration.ofSeconds(5))) != null) {
          assertTrue(e.lastIndex() > lastIndex, "never an older state after a newer one");
          lastIndex = e.lastIndex();
          n++;
          if (lastIndex == latest.lastIndex()) {
            break;
          }
        }
        assertEquals(latest.lastIndex(), lastIndex, "the watcher reaches the latest state");
        assertTrue(n < 800, "coalesced: " + n + " events for 800 writes");
        System.out.println("800 writes with a stalled watcher took " + writeMs + " ms");
      }
    }
  }
}
