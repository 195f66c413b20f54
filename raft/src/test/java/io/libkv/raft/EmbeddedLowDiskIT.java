package io.libkv.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.CannotLockException;
import io.libkv.store.Config;
import io.libkv.store.HeldLock;
import io.libkv.store.KVPair;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A leader low on disk space ({@code embedded.minFreeDiskBytes}), deterministic: the usable space
 * the members' {@link DiskGuard}s read is simulated ({@link DiskGuard#simulatedUsableBytes});
 * {@link EmbeddedFullDiskIT} does the same on a real small file system. Writes that add data are
 * refused with a message naming the member, its directory, the usable bytes and the option; reads,
 * deletes and a held lock's renewals go on; every member holds the same data; once space is freed
 * writes are admitted again without a restart. A follower's low disk is not checked.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EmbeddedLowDiskIT {
  private static final long MIN_FREE = 100_000_000;

  @TempDir Path dir;

  @AfterEach
  void stopSimulating() {
    DiskGuard.simulatedUsableBytes = null;
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  /** Retries {@code write} until it is refused for a low disk (the guard reads every 100 ms). */
  private static StoreException awaitRefused(Runnable write) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        write.run();
      } catch (StoreException e) {
        if (String.valueOf(e.getMessage()).contains("low on disk space")) {
          return e;
        }
        throw e;
      }
      assertTrue(System.nanoTime() < deadline, "writes were not refused within 10 s");
      Thread.sleep(20);
    }
  }

  static void assertClear(String message, String member, Path dataDir, long usable, long min) {
    assertTrue(
        message.contains("member " + member + " is low on disk space: " + usable + " bytes usable")
            && message.contains(dataDir.toString())
            && message.contains("embedded.minFreeDiskBytes=" + min)
            && message.contains("delete keys or free disk space"),
        message);
  }

  /** Every member serves exactly {@code expected} under {@code app}, with equal indices. */
  static void assertEveryMemberHolds(EmbeddedCluster cluster, Map<String, byte[]> expected) {
    List<KVPair> first = null;
    for (String id : cluster.runningIds()) {
      try (Store s = cluster.openStore(id)) {
        List<KVPair> list = s.list("app");
        assertEquals(expected.keySet(), keys(list), "keys on " + id);
        for (KVPair p : list) {
          assertArrayEquals(expected.get(p.key()), p.value(), p.key() + " on " + id);
        }
        if (first == null) {
          first = list;
        } else {
          for (int i = 0; i < list.size(); i++) {
            assertEquals(first.get(i).lastIndex(), list.get(i).lastIndex(), list.get(i).key());
          }
        }
      }
    }
  }

  private static String refuser(String message) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("member (\\S+) is low on disk space").matcher(message);
    assertTrue(m.find(), message);
    return m.group(1);
  }

  private static java.util.Set<String> keys(List<KVPair> list) {
    java.util.Set<String> k = new java.util.TreeSet<>();
    list.forEach(p -> k.add(p.key()));
    return k;
  }

  @Test
  void aLeaderLowOnDiskRefusesWritesThatAddDataUntilSpaceIsFreed() throws Exception {
    Config config =
        Config.builder().option(RaftSettings.MIN_FREE_DISK_BYTES, Long.toString(MIN_FREE)).build();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(3).baseDir(dir).config(config).start()) {
      EmbeddedNode leader = cluster.awaitLeader();
      String follower =
          cluster.runningIds().stream().filter(id -> !id.equals(leader.id())).findFirst().get();
      Path followerDir = cluster.node(follower).dataDir();
      Map<String, byte[]> expected = new TreeMap<>();
      try (Store s = cluster.openStore(follower);
          Store onLeader = cluster.openStore(leader.id())) {
        for (int i = 0; i < 30; i++) {
          s.put("app/k" + i, b("v" + i), null);
          expected.put("app/k" + i, b("v" + i));
        }
        s.put("app/sub/a", b("a"), null);
        s.put("app/sub/b", b("b"), null);
        expected.put("app/sub/a", b("a"));
        expected.put("app/sub/b", b("b"));
        Locker locker =
            s.newLock(
                "locks/held",
                LockOptions.builder().value(b("me")).ttl(Duration.ofSeconds(1)).build());
        HeldLock held = locker.lock(Duration.ofSeconds(20));

        // Only the leader admits writes: a follower's low disk refuses nothing.
        DiskGuard.simulatedUsableBytes = d -> d.startsWith(followerDir) ? 1000 : Long.MAX_VALUE;
        s.put("app/follower-low", b("ok"), null);
        expected.put("app/follower-low", b("ok"));

        // Every member low (whichever leads now, also after an election, refuses).
        DiskGuard.simulatedUsableBytes = d -> d.startsWith(dir) ? 1000 : Long.MAX_VALUE;
        // (outside app/: puts admitted before the guard's next reading are stored)
        StoreException refused = awaitRefused(() -> s.put("probe/low", b("x"), null));
        String refuser = refuser(refused.getMessage());
        assertClear(refused.getMessage(), refuser, cluster.node(refuser).dataDir(), 1000, MIN_FREE);
        String onLeaderRefused =
            assertThrows(StoreException.class, () -> onLeader.put("app/k1", b("new"), null))
                .getMessage();
        assertClear(
            onLeaderRefused,
            refuser(onLeaderRefused),
            cluster.node(refuser(onLeaderRefused)).dataDir(),
            1000,
            MIN_FREE);
        KVPair k2 = s.get("app/k2");
        assertThrows(StoreException.class, () -> s.atomicPut("app/k2", b("cas"), k2, null));
        assertThrows(StoreException.class, () -> s.atomicPut("app/new", b("cas"), null, null));
        CannotLockException noLock =
            assertThrows(
                CannotLockException.class,
                () -> s.newLock("locks/other", null).lock(Duration.ofSeconds(5)));
        assertTrue(noLock.getMessage().contains("low on disk space"), noLock.getMessage());

        // Reads work, on every member; nothing stored changed.
        assertEveryMemberHolds(cluster, expected);
        assertFalse(s.exists("app/new"));

        // Deletes go through (they free space), and the held lock is renewed past its TTL.
        for (int i = 0; i < 10; i++) {
          s.delete("app/k" + i);
          expected.remove("app/k" + i);
        }
        assertTrue(s.atomicDelete("app/k10", s.get("app/k10")));
        expected.remove("app/k10");
        s.deleteTree("app/sub");
        expected.remove("app/sub/a");
        expected.remove("app/sub/b");
        assertThrows(TimeoutException.class, () -> held.lost().get(2500, TimeUnit.MILLISECONDS));
        assertArrayEquals(b("me"), s.get("locks/held").value(), "the lock is still held");
        assertEveryMemberHolds(cluster, expected);

        // Space freed: writes are admitted again at once, no restart.
        DiskGuard.simulatedUsableBytes = null;
        s.put("app/after", b("1"), null);
        onLeader.put("app/k11", b("new"), null);
        expected.put("app/after", b("1"));
        expected.put("app/k11", b("new"));
        locker.unlock();
        assertEveryMemberHolds(cluster, expected);
      }
    }
  }

  @Test
  void aDataCapRefusesWritesThatAddDataUntilKeysAreDeleted() throws Exception {
    long cap = 256 << 10;
    Config config =
        Config.builder().option(RaftSettings.MAX_DATA_BYTES, Long.toString(cap)).build();
    try (EmbeddedCluster cluster =
            EmbeddedCluster.builder().nodes(1).baseDir(dir).config(config).start();
        Store s = cluster.openStore()) {
      cluster.awaitLeader();
      Map<String, byte[]> expected = new TreeMap<>();
      byte[] value = new byte[4000];
      StoreException refused = null;
      for (int i = 0; i < 1000 && refused == null; i++) {
        try {
          s.put("app/k" + i, value, null);
          expected.put("app/k" + i, value);
        } catch (StoreException e) {
          refused = e;
        }
      }
      assertTrue(refused != null && expected.size() > 20, "refused after " + expected.size());
      assertTrue(
          refused.getMessage().contains("member n1 holds ")
              && refused.getMessage().contains("at its limit embedded.maxDataBytes=" + cap)
              && refused.getMessage().contains("until keys are deleted"),
          refused.getMessage());
      long live = cluster.node("n1").engine().liveDataBytes();
      assertTrue(live < cap + 16384, "live data " + live + " over the cap " + cap);
      assertEveryMemberHolds(cluster, expected);
      for (int i = 0; i < 10; i++) {
        s.delete("app/k" + i);
        expected.remove("app/k" + i);
      }
      s.put("app/again", value, null);
      expected.put("app/again", value);
      assertEveryMemberHolds(cluster, expected);
    }
  }
}
