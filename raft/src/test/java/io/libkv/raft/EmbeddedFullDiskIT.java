package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Full disks for real: member data directories on small tmpfs file systems ({@code mount -t tmpfs},
 * which needs root; skipped with the reason otherwise), filled with a ballast file and the
 * cluster's own writes.
 *
 * <ul>
 *   <li>A leader whose disk falls under {@code embedded.minFreeDiskBytes} refuses writes that add
 *       data; reads and deletes work, nothing stored changes, writes work again once the ballast is
 *       removed, and the member's directories reopen cleanly after a restart.
 *   <li>A follower whose disk really fills (no guard on it: ENOSPC in its Raft log or its LMDB
 *       commit) stops itself with a message saying why, the others go on, and once space is freed
 *       and it is restarted it catches up with every acknowledged write.
 * </ul>
 *
 * LMDB runs without {@code MDB_WRITEMAP} (KvEngine), so a full tmpfs fails a commit with ENOSPC
 * instead of a SIGBUS in the JVM.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class EmbeddedFullDiskIT {
  private static final int VALUE_BYTES = 64 << 10;

  @TempDir Path dir;
  private final List<Path> mounts = new ArrayList<>();

  /** Mounts a tmpfs of {@code mib} MiB at {@code dir/name}, or skips the test saying why not. */
  private Path tmpfs(String name, int mib) throws Exception {
    Path p = dir.resolve(name);
    Files.createDirectories(p);
    String out;
    int rc;
    try {
      Process m =
          new ProcessBuilder(
                  "mount",
                  "-t",
                  "tmpfs",
                  "-o",
                  "size=" + mib + "m,mode=0700",
                  "tmpfs",
                  p.toString())
              .redirectErrorStream(true)
              .start();
      assertTrue(m.waitFor(30, TimeUnit.SECONDS), "mount did not finish");
      out = new String(m.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      rc = m.exitValue();
    } catch (IOException e) {
      out = e.toString();
      rc = -1;
    }
    assumeTrue(
        rc == 0,
        "a real full disk needs a small file system: 'mount -t tmpfs' needs root (CAP_SYS_ADMIN)"
            + " and failed here (exit "
            + rc
            + "): "
            + out
            + "; EmbeddedLowDiskIT covers the same behaviour with a simulated disk");
    mounts.add(p);
    return p;
  }

  @AfterEach
  void unmount() throws Exception {
    Collections.reverse(mounts);
    for (Path p : mounts) {
      Process u = new ProcessBuilder("umount", p.toString()).redirectErrorStream(true).start();
      if (!u.waitFor(30, TimeUnit.SECONDS) || u.exitValue() != 0) {
        new ProcessBuilder("umount", "-l", p.toString()).start().waitFor(30, TimeUnit.SECONDS);
      }
    }
    mounts.clear();
  }

  private static long usable(Path p) throws IOException {
    FileStore fs = Files.getFileStore(p);
    return fs.getUsableSpace();
  }

  /** Writes a file of zeros leaving about {@code leave} bytes usable on {@code p}'s file system. */
  private static Path ballast(Path p, long leave) throws IOException {
    Path f = p.resolve("ballast");
    long size = usable(p) - leave;
    assertTrue(size > 0, "already under " + leave + " bytes: " + usable(p));
    byte[] chunk = new byte[1 << 20];
    try (OutputStream o = Files.newOutputStream(f)) {
      for (long w = 0; w < size; w += chunk.length) {
        o.write(chunk, 0, (int) Math.min(chunk.length, size - w));
      }
    } catch (IOException e) {
      // The member's own writes (a new log segment) took space while the ballast was written:
      // the disk is fuller than asked, which is what the test wants.
      if (usable(p) > leave) {
        throw e;
      }
    }
    return f;
  }

  private static byte[] value(Random r) {
    byte[] v = new byte[VALUE_BYTES];
    r.nextBytes(v);
    return v;
  }

  private static void assertHolds(Store s, Map<String, byte[]> expected, String where) {
    List<KVPair> list = s.list("app");
    Set<String> keys = new TreeSet<>();
    for (KVPair p : list) {
      keys.add(p.key());
      assertArrayEquals(expected.get(p.key()), p.value(), p.key() + " on " + where);
    }
    assertEquals(expected.keySet(), keys, "keys on " + where);
  }

  @Test
  void aLeaderWhoseDiskFillsRefusesWritesUntilSpaceIsFreedAndReopensCleanly() throws Exception {
    Path base = tmpfs("leader", 56);
    long min = 16L << 20;
    Config config =
        Config.builder().option(RaftSettings.MIN_FREE_DISK_BYTES, Long.toString(min)).build();
    Random random = new Random(7);
    Map<String, byte[]> expected = new TreeMap<>();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(1).baseDir(base).config(config).start()) {
      cluster.awaitLeader();
      Path ballast;
      StoreException refused = null;
      try (Store s = cluster.openStore()) {
        for (int i = 0; i < 20; i++) {
          byte[] v = value(random);
          s.put("app/k" + i, v, null);
          expected.put("app/k" + i, v);
        }
        // Leave a little more than the minimum; the cluster's own writes take the rest.
        ballast = ballast(base, min + (6L << 20));
        for (int i = 20; i < 1000 && refused == null; i++) {
          byte[] v = value(random);
          try {
            s.put("app/k" + i, v, null);
            expected.put("app/k" + i, v);
          } catch (StoreException e) {
            refused = e;
          }
        }
        assertNotNull(refused, "writes were never refused; usable now " + usable(base));
        String m = refused.getMessage();
        assertTrue(
            m.contains("member n1 is low on disk space")
                && m.contains(base.resolve("n1").toString())
                && m.contains("embedded.minFreeDiskBytes=" + min)
                && m.contains("delete keys or free disk space"),
            m);
        assertTrue(usable(base) > 0, "the guard kept space: " + usable(base));

        // Reads work and nothing stored changed; deletes work.
        assertHolds(s, expected, "n1 (full)");
        for (int i = 0; i < 10; i++) {
          s.delete("app/k" + i);
          expected.remove("app/k" + i);
        }
        assertHolds(s, expected, "n1 (after deletes)");

        // Space freed: writes are admitted again, no restart.
        Files.delete(ballast);
        byte[] v = value(random);
        s.put("app/after", v, null);
        expected.put("app/after", v);
      }
      cluster.stop("n1");
      cluster.restart("n1");
      cluster.awaitLeader();
      try (Store s = cluster.openStore()) {
        assertHolds(s, expected, "n1 (restarted)");
        byte[] v = value(random);
        s.put("app/after-restart", v, null);
        expected.put("app/after-restart", v);
        assertHolds(s, expected, "n1 (restarted)");
      }
      // A member whose disk is full when it starts refuses to start, saying so (an election on a
      // full disk would leave Ratis' raft-meta empty: term and vote lost).
      cluster.stop("n1");
      Path full = ballast(base, 0);
      StoreException refusedStart = assertThrows(StoreException.class, () -> cluster.restart("n1"));
      assertTrue(
          refusedStart.getMessage().contains("cannot start: the disk of its data directory")
              && refusedStart.getMessage().contains("free disk space and start the member again")
              && refusedStart.getMessage().contains("do not clear"),
          refusedStart.getMessage());
      Files.delete(full);
      cluster.restart("n1");
      cluster.awaitLeader();
      try (Store s = cluster.openStore()) {
        assertHolds(s, expected, "n1 (restarted after a full disk)");
      }
    }
  }

  @Test
  @Tag("slow")
  void aLoneLeaderWithoutTheGuardWhoseDiskFillsStopsAndKeepsEveryAcknowledgedWrite()
      throws Exception {
    Path base = tmpfs("lone", 24);
    Config config =
        Config.builder()
            .option(RaftSettings.MIN_FREE_DISK_BYTES, "0")
            .connectionTimeout(Duration.ofSeconds(2))
            .build();
    Random random = new Random(13);
    Map<String, byte[]> acked = new TreeMap<>();
    Map<String, byte[]> unknown = new TreeMap<>();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(1).baseDir(base).config(config).start()) {
      cluster.awaitLeader();
      Path ballast = ballast(base, 3L << 20);
      RaftMember<EngineState> m1 = cluster.node("n1").member();
      try (Store s = cluster.openStore()) {
        for (int i = 0; i < 1000 && m1.failure() == null; i++) {
          byte[] v = value(random);
          try {
            s.put("app/k" + i, v, null);
            acked.put("app/k" + i, v);
          } catch (StoreException e) {
            unknown.put("app/k" + i, v); // the member stopped mid-write: outcome unknown
          }
        }
      }
      EmbeddedClusterIT.waitUntil(
          () -> m1.failure() != null, Duration.ofSeconds(30), "n1 to stop on its full disk");
      assertTrue(m1.failure().contains("free disk space and restart the member"), m1.failure());
      cluster.stop("n1");
      Files.delete(ballast);
      cluster.restart("n1");
      cluster.awaitLeader();
      try (Store r = cluster.openStore()) {
        Map<String, byte[]> expected = new TreeMap<>(acked);
        for (Map.Entry<String, byte[]> u : unknown.entrySet()) {
          if (r.exists(u.getKey())) {
            expected.put(u.getKey(), u.getValue());
          }
        }
        assertHolds(r, expected, "n1 (restarted)");
      }
    }
  }

  @Test
  void aFollowerWhoseDiskFillsStopsAndCatchesUpAfterSpaceIsFreedAndARestart() throws Exception {
    // The whole data directory on the small disk: LMDB's commit fails first (as EIO: a short
    // write), or the Raft log's write.
    followerDiskFills(tmpfs("n3", 24), "");
  }

  @Test
  void aFollowerWhoseRaftLogCannotBeWrittenStopsAndCatchesUpAfterARestart() throws Exception {
    Files.createDirectories(dir.resolve("n3"));
    // Only raft/ on the small disk: the Raft log's write fails (Ratis' log worker).
    followerDiskFills(tmpfs("n3/raft", 20), "its Raft log could not be written");
  }

  private void followerDiskFills(Path small, String expectedCause) throws Exception {
    // No guard anywhere: n3's disk really fills (the leader's does not).
    Config config = Config.builder().option(RaftSettings.MIN_FREE_DISK_BYTES, "0").build();
    Random random = new Random(11);
    Map<String, byte[]> acked = new TreeMap<>();
    Map<String, byte[]> unknown = new TreeMap<>();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(3).baseDir(dir).config(config).start()) {
      if (cluster.awaitLeader().id().equals("n3")) {
        cluster.stop("n3"); // n3 is to be a follower: n1 or n2 takes over
        cluster.restart("n3");
      }
      assertTrue(!cluster.awaitLeader().id().equals("n3"), "n3 still leads");
      Path n3 = cluster.node("n3").dataDir();
      Path ballast = ballast(small, 3L << 20);
      RaftMember<EngineState> m3 = cluster.node("n3").member();
      Store onN3Store = cluster.openStore("n3");
      Store s = cluster.openStore("n1");
      try {
        for (int i = 0; i < 1000 && m3.failure() == null; i++) {
          byte[] v = value(random);
          try {
            s.put("app/k" + i, v, null);
            acked.put("app/k" + i, v);
          } catch (StoreException e) {
            unknown.put("app/k" + i, v); // a leader change mid-write: outcome unknown
          }
        }
        // The node learns of its member's stop from a listener the failing Ratis thread calls
        // right after recording it: wait for what the node reports, not for the member's record.
        EmbeddedNode stopping = cluster.node("n3");
        EmbeddedClusterIT.waitUntil(
            () -> m3.failure() != null && stopping.failure().isPresent(),
            Duration.ofSeconds(30),
            "n3 to stop on its full disk");
        String why = m3.failure();
        assertTrue(
            why.contains("member n3 (data directory " + n3 + ") stopped")
                && why.contains(expectedCause)
                && why.contains("free disk space and restart the member"),
            why);

        // Its stores fail at once with the reason (not after a timeout), and new ones are refused.
        EmbeddedNode node3 = cluster.node("n3");
        assertTrue(node3.failure().orElseThrow().contains(why), node3.failure().toString());
        long t0 = System.nanoTime();
        StoreException onN3 =
            assertThrows(
                StoreException.class, () -> onN3Store.put("app/on-n3", new byte[] {1}, null));
        assertTrue(
            onN3.getMessage().contains("has stopped") && onN3.getMessage().contains(why),
            onN3.getMessage());
        assertThrows(StoreException.class, () -> onN3Store.get("app/k0"));
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(2).toNanos(), "failed at once");
        assertThrows(StoreException.class, node3::openStore);

        // The others go on.
        byte[] v = value(random);
        s.put("app/while-n3-is-down", v, null);
        acked.put("app/while-n3-is-down", v);
      } finally {
        s.close();
        onN3Store.close();
      }

      cluster.stop("n3");
      Files.delete(ballast);
      assertTrue(
          usable(small) >= FullDiskStart.MIN_USABLE_TO_START,
          "the test's file system is too small to restart on: " + usable(small));
      cluster.restart("n3");
      long target = cluster.node("n1").appliedIndex();
      EmbeddedClusterIT.waitUntil(
          () -> cluster.node("n3").appliedIndex() >= target,
          Duration.ofSeconds(60),
          "n3 to catch up to index " + target);
      for (String id : List.of("n1", "n2", "n3")) {
        try (Store r = cluster.openStore(id)) {
          Map<String, byte[]> expected = new TreeMap<>(acked);
          for (Map.Entry<String, byte[]> u : unknown.entrySet()) {
            if (r.exists(u.getKey())) {
              expected.put(u.getKey(), u.getValue());
            }
          }
          assertHolds(r, expected, id);
        }
      }
    }
  }
}
