package io.libkv.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.libkv.storage.engine.OwnerOnly;
import io.libkv.store.Config;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member's data directory: created for its owner only, and when part of it is damaged or deleted
 * the member refuses to start with a message naming the directory and what is wrong; once the
 * directory is cleared, it rejoins by snapshot.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class MemberDataDirIT {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void aMembersDirectoriesAndDataFilesAreOwnerOnly() throws Exception {
    assumeTrue(OwnerOnly.posix(dir), "the file system has no POSIX permissions");
    Config config = Config.builder().option(RaftSettings.SNAPSHOT_THRESHOLD, "10").build();
    Path base = dir.resolve("not-yet-there");
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(1).baseDir(base).config(config).start()) {
      try (Store s = cluster.openStore()) {
        for (int i = 0; i < 25; i++) {
          s.put("p/" + i, b("v"), null);
        }
      }
      Path data = cluster.node("n1").dataDir();
      EmbeddedClusterIT.waitUntil(
          () -> !snapshots(data).isEmpty(), java.time.Duration.ofSeconds(30), "a snapshot");
      for (Path d : List.of(base, data, data.resolve("raft"), data.resolve("kv"))) {
        assertEquals("rwx------", mode(d), d.toString());
      }
      for (Path f : List.of(data.resolve("kv/data.mdb"), data.resolve("kv/lock.mdb"))) {
        assertEquals("rw-------", mode(f), f.toString());
      }
      // Snapshots may still be taken and old ones deleted (retention) while this runs: check every
      // one that is still there, and at least one.
      EmbeddedClusterIT.waitUntil(
          () -> {
            int checked = 0;
            for (Path f : snapshots(data)) {
              String m;
              try {
                m = mode(f);
              } catch (NoSuchFileException gone) {
                continue;
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
              assertEquals("rw-------", m, f.toString());
              checked++;
            }
            return checked > 0;
          },
          java.time.Duration.ofSeconds(30),
          "a snapshot whose mode could be read");
    }
  }

  private static List<Path> snapshots(Path data) {
    try (Stream<Path> s = Files.walk(data.resolve("raft"))) {
      return s.filter(p -> p.getFileName().toString().matches("snapshot\\.\\d+_\\d+")).toList();
    } catch (IOException | java.io.UncheckedIOException e) {
      return List.of(); // a snapshot's temporary files vanished during the walk: callers poll again
    }
  }

  @Test
  void aDamagedDataDirIsRefusedNamingItAndAClearedOneRejoinsBySnapshot() throws Exception {
    Config config = Config.builder().option(RaftSettings.SNAPSHOT_THRESHOLD, "20").build();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(3).baseDir(dir.resolve("c")).config(config).start()) {
      EmbeddedNode leader = cluster.awaitLeader();
      try (Store s = cluster.openStore(leader.id())) {
        for (int i = 0; i < 60; i++) {
          s.put("d/" + i, b("v" + i), null);
        }
      }
      String victim =
          cluster.runningIds().stream()
              .filter(id -> !id.equals(leader.id()))
              .findFirst()
              .orElseThrow();
      Path data = cluster.node(victim).dataDir();
      Path group =
          data.resolve("raft").resolve(Peers.groupId(Peers.DEFAULT_GROUP).getUuid().toString());
      cluster.stop(victim);
      Path backup = dir.resolve("backup");
      copyTree(data, backup);

      refused(
          cluster, victim, data, backup, d -> FileTrees.delete(d.resolve("raft")), "Raft state");
      refused(
          cluster,
          victim,
          data,
          backup,
          d -> delete(group.resolve("current/raft-meta")),
          "raft-meta");
      refused(
          cluster,
          victim,
          data,
          backup,
          d -> write(group.resolve("current/raft-meta"), "#garbage\nterm=banana\n"),
          "raft-meta");
      refused(
          cluster,
          victim,
          data,
          backup,
          d -> write(d.resolve("kv/data.mdb"), "not an lmdb file\n".repeat(1000)),
          "kv/");

      refused(cluster, victim, data, backup, d -> scribbleLargestSegment(group), "Raft log");

      // Cleared: it starts as a new member and catches up from the leader by snapshot (the log
      // before the leader's last snapshot is purged).
      FileTrees.delete(data);
      try (Store s = cluster.openStore(leader.id())) {
        s.put("d/after", b("x"), null);
      }
      EmbeddedNode back = cluster.restart(victim);
      EmbeddedClusterIT.waitUntil(
          () -> !snapshots(data).isEmpty(),
          java.time.Duration.ofSeconds(60),
          "a snapshot installed on " + victim);
      try (Store s = back.openStore()) {
        assertArrayEquals(b("v42"), s.get("d/42").value());
        assertArrayEquals(b("x"), s.get("d/after").value());
        assertEquals(61, s.list("d").size());
      }
    }
  }

  /**
   * A member whose directory was cleared has forgotten its vote, so it must not vote until a leader
   * has reached it (else it could vote twice in one term). With the leader stopped and only one
   * other member up, that member cannot be elected with the cleared member's vote; once the old
   * leader is back, the cluster elects and the cleared member catches up with everything.
   */
  @Test
  void aClearedMemberDoesNotVoteUntilALeaderHasReachedIt() throws Exception {
    Config config = Config.builder().option(RaftSettings.SNAPSHOT_THRESHOLD, "20").build();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(3).baseDir(dir.resolve("v")).config(config).start()) {
      EmbeddedNode leader = cluster.awaitLeader();
      String leaderId = leader.id();
      try (Store s = cluster.openStore(leaderId)) {
        for (int i = 0; i < 30; i++) {
          s.put("v/" + i, b("v" + i), null);
        }
      }
      List<String> followers =
          cluster.runningIds().stream().filter(id -> !id.equals(leaderId)).toList();
      String cleared = followers.get(0);
      Path data = cluster.node(cleared).dataDir();
      cluster.stop(cleared);
      FileTrees.delete(data);
      cluster.stop(leaderId);
      cluster.restart(cleared);
      // Three maximum election timeouts (2 s each): the remaining follower stands for election
      // again and again, and must never win with the cleared member's vote.
      long end = System.nanoTime() + java.time.Duration.ofSeconds(6).toNanos();
      while (System.nanoTime() < end) {
        assertTrue(
            cluster.leader().isEmpty(),
            "a leader was elected with the vote of " + cleared + ", whose directory was cleared");
        Thread.sleep(100);
      }
      cluster.restart(leaderId);
      cluster.awaitLeader();
      EmbeddedNode back = cluster.node(cleared);
      try (Store s = back.openStore()) {
        EmbeddedClusterIT.waitUntil(
            () -> {
              try {
                return s.list("v").size() == 30;
              } catch (StoreException e) {
                return false;
              }
            },
            java.time.Duration.ofSeconds(60),
            cleared + " caught up");
        assertArrayEquals(b("v17"), s.get("v/17").value());
      }
    }
  }

  private static void refused(
      EmbeddedCluster cluster,
      String id,
      Path data,
      Path backup,
      Consumer<Path> damage,
      String says)
      throws IOException {
    FileTrees.delete(data);
    copyTree(backup, data);
    damage.accept(data);
    StoreException e = assertThrows(StoreException.class, () -> cluster.restart(id));
    assertTrue(e.getMessage().contains(data.toString()), e.getMessage());
    assertTrue(e.getMessage().contains(says), e.getMessage());
    assertTrue(e.getMessage().contains("delete everything in the data directory"), e.getMessage());
    assertEquals(2, cluster.runningIds().size());
  }

  private static void write(Path f, String content) {
    try {
      Files.writeString(f, content);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void delete(Path f) {
    try {
      Files.delete(f);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else if (!p.getFileName().toString().equals("in_use.lock")) {
          Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }

  private static void scribbleLargestSegment(Path group) {
    try (Stream<Path> segs = Files.list(group.resolve("current"))) {
      Path seg =
          segs.filter(p -> p.getFileName().toString().startsWith("log_"))
              .max(Comparator.comparingLong(p -> p.toFile().length()))
              .orElseThrow();
      scribble(seg, 64);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Overwrites {@code n} bytes in the middle of a file. */
  static void scribble(Path f, int n) throws IOException {
    try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
      r.seek(r.length() / 2);
      r.write(new byte[n]);
    }
  }
}
