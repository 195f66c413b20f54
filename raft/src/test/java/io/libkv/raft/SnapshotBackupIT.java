package io.libkv.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backup and restore ({@link EmbeddedSnapshots}): a snapshot saved from a cluster under write load
 * seeds a new 3-member cluster holding every write acknowledged before the save with its index; new
 * indexes continue above the restored ones and a watch resumes from them; a damaged or truncated
 * file is refused and changes nothing.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class SnapshotBackupIT {
  @TempDir Path dir;

  private static final Config DEFAULTS = Config.builder().build();

  @Test
  void aSnapshotSavedUnderLoadSeedsANewClusterWithEveryAcknowledgedWriteAndItsIndex()
      throws Exception {
    Path file = dir.resolve("backup.snap");
    Path fromMember = dir.resolve("member.snap");
    Map<String, KVPair> acked = new ConcurrentHashMap<>();
    Map<String, KVPair> beforeSave;
    long saved;
    try (EmbeddedCluster old =
        EmbeddedCluster.builder().nodes(3).baseDir(dir.resolve("old")).start()) {
      EmbeddedNode leader = old.awaitLeader();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicReference<Throwable> writerFailed = new AtomicReference<>();
      Thread writer =
          new Thread(
              () -> {
                try (Store s = old.openStore(leader.id())) {
                  for (int i = 0; !stop.get(); i++) {
                    String key = "k/" + i;
                    try {
                      acked.put(key, s.atomicPut(key, ("v" + i).getBytes(UTF_8), null, null));
                    } catch (io.libkv.store.StoreException notAcknowledged) {
                      // A loaded machine may time a write out or change leaders: only writes that
                      // returned count as acknowledged, and only they are checked.
                    }
                  }
                } catch (Throwable t) {
                  writerFailed.set(t);
                }
              },
              "backup-writer");
      writer.start();
      EmbeddedClusterIT.waitUntil(
          () -> acked.size() >= 100 || writerFailed.get() != null,
          Duration.ofSeconds(60),
          "100 acknowledged writes");
      beforeSave = new HashMap<>(acked);
      // Client-only, as ./libkv snapshot save does, while the writer goes on.
      saved = EmbeddedSnapshots.save(old.endpoints(), DEFAULTS, file);
      int duringSave = acked.size();
      EmbeddedClusterIT.waitUntil(
          () -> acked.size() >= duringSave + 20 || writerFailed.get() != null,
          Duration.ofSeconds(60),
          "writes after the save");
      stop.set(true);
      writer.join(30_000);
      assertEquals(null, writerFailed.get(), "the writer failed");
      // Through a follower's member too: it is the same format.
      EmbeddedNode follower =
          old.runningIds().stream()
              .filter(id -> !id.equals(old.awaitLeader().id()))
              .map(old::node)
              .findFirst()
              .orElseThrow();
      long fromFollower = follower.saveSnapshot(fromMember);
      assertTrue(fromFollower >= saved, fromFollower + " < " + saved);
      assertEquals(fromFollower, SnapshotFile.verify(fromMember).appliedIndex());
    }
    SnapshotFile.Header h = SnapshotFile.verify(file);
    assertEquals(saved, h.appliedIndex());

    Path fresh = dir.resolve("new");
    for (String id : List.of("n1", "n2", "n3")) {
      assertEquals(saved, EmbeddedSnapshots.restore(file, fresh.resolve(id), DEFAULTS));
    }
    try (EmbeddedCluster restored = EmbeddedCluster.builder().nodes(3).baseDir(fresh).start();
        Store s = restored.openStore()) {
      long highest = 0;
      for (Map.Entry<String, KVPair> e : beforeSave.entrySet()) {
        KVPair p = s.get(e.getKey());
        assertArrayEquals(e.getValue().value(), p.value(), e.getKey());
        assertEquals(e.getValue().lastIndex(), p.lastIndex(), e.getKey() + "'s index");
        highest = Math.max(highest, p.lastIndex());
      }
      long restoredHighest = s.list("k").stream().mapToLong(KVPair::lastIndex).max().orElse(0);
      assertTrue(restoredHighest >= highest);

      String firstKey = beforeSave.keySet().stream().sorted().findFirst().orElseThrow();
      KVPair first = beforeSave.get(firstKey);
      try (Watch<KVPair> w = s.watch(firstKey, first.lastIndex())) {
        s.put(firstKey, "after".getBytes(UTF_8), null);
        KVPair after = s.get(firstKey);
        assertTrue(
            after.lastIndex() > restoredHighest,
            "new index " + after.lastIndex() + " is above the restored " + restoredHighest);
        KVPair seen = w.poll(Duration.ofSeconds(30));
        while (seen != null && seen.lastIndex() < after.lastIndex()) {
          seen = w.poll(Duration.ofSeconds(30));
        }
        assertNotNull(seen, "the watch resumed from a restored index saw the new write");
        assertArrayEquals("after".getBytes(UTF_8), seen.value());
      }
      // Every member holds the data, not only the one that answered.
      for (String id : restored.runningIds()) {
        try (Store m = restored.openStore(id)) {
          String any =
              beforeSave.keySet().stream().filter(k -> !k.equals(firstKey)).findAny().orElseThrow();
          assertArrayEquals(beforeSave.get(any).value(), m.get(any).value(), id);
        }
      }
    }
  }

  @Test
  void aDamagedOrTruncatedSnapshotIsRefusedAndNothingIsWritten() throws Exception {
    Path file = dir.resolve("good.snap");
    try (EmbeddedCluster c = EmbeddedCluster.builder().nodes(1).baseDir(dir.resolve("c")).start();
        Store s = c.openStore()) {
      for (int i = 0; i < 20; i++) {
        s.put("d/" + i, ("v" + i).getBytes(UTF_8), null);
      }
      EmbeddedSnapshots.save(c.endpoints(), DEFAULTS, file);
    }
    long size = Files.size(file);

    Path flipped = dir.resolve("flipped.snap");
    Files.copy(file, flipped);
    try (FileChannel ch =
        FileChannel.open(flipped, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer one = ByteBuffer.allocate(1);
      long at = SnapshotFile.HEADER_BYTES + (size - SnapshotFile.HEADER_BYTES) / 2;
      ch.read(one, at);
      one.flip();
      byte b = one.get();
      ch.write(ByteBuffer.wrap(new byte[] {(byte) (b ^ 0x40)}), at);
    }
    Path truncated = dir.resolve("truncated.snap");
    Files.write(truncated, java.util.Arrays.copyOf(Files.readAllBytes(file), (int) size - 4096));
    Path headerOnly = dir.resolve("short.snap");
    Files.write(headerOnly, java.util.Arrays.copyOf(Files.readAllBytes(file), 20));
    Path foreign = dir.resolve("foreign.snap");
    Files.write(foreign, "not a snapshot at all, just some text to be refused".getBytes(UTF_8));

    Map<Path, String> expected =
        Map.of(
            flipped, "does not match the SHA-256",
            truncated, "truncated",
            headerOnly, "truncated",
            foreign, "not a libkv snapshot");
    for (Map.Entry<Path, String> e : expected.entrySet()) {
      Path target = dir.resolve("target-" + e.getKey().getFileName());
      StoreException x =
          assertThrows(
              StoreException.class, () -> EmbeddedSnapshots.restore(e.getKey(), target, DEFAULTS));
      assertTrue(x.getMessage().contains(e.getValue()), x.getMessage());
      assertTrue(x.getMessage().contains("Nothing was changed"), x.getMessage());
      assertFalse(Files.exists(target), "nothing is created for " + e.getKey());
      assertFalse(
          Files.exists(target.resolveSibling(target.getFileName() + ".restoring")),
          "no scratch directory is left for " + e.getKey());
    }

    // A directory that already holds data is refused too, and left as it was.
    Path used = dir.resolve("used");
    Files.createDirectories(used);
    Files.writeString(used.resolve("keep"), "x");
    assertThrows(
        IllegalArgumentException.class, () -> EmbeddedSnapshots.restore(file, used, DEFAULTS));
    assertEquals("x", Files.readString(used.resolve("keep")));
  }
}
