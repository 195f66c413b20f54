package io.libkv.storage.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.HistoryCompactedException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KvEngineTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static EngineOptions small() {
    return EngineOptions.builder().initialMapSizeBytes(1 << 20).historySize(100).build();
  }

  @Test
  void batchWithFailedCasInTheMiddleAppliesTheRest() {
    try (KvEngine e = KvEngine.open(dir, small())) {
      List<CommandResult> r =
          e.apply(
              3,
              1,
              List.of(
                  new Command.Put("a", b("1"), 0, 0),
                  new Command.CasPut("a", b("x"), 99, 0, 0),
                  new Command.CasPut("b", b("2"), 0, 0, 0),
                  new Command.CasPut("b", b("3"), 0, 0, 0),
                  new Command.Delete("nope"),
                  new Command.CasDelete("a", 0)));
      assertInstanceOf(CommandResult.Written.class, r.get(0));
      assertEquals(new CommandResult.KeyModified("a", 99, 1), r.get(1));
      assertEquals(3, ((CommandResult.Written) r.get(2)).revision());
      assertEquals(new CommandResult.KeyExists("b"), r.get(3));
      assertEquals(new CommandResult.KeyNotFound("nope"), r.get(4));
      assertEquals(new CommandResult.PreviousNotSpecified("a"), r.get(5));
      assertEquals(3, e.appliedIndex());
      assertEquals(6, e.lastRevision());
      KvEntry a = e.read(v -> v.get("a"));
      assertArrayEquals(b("1"), a.value());
      assertEquals(1, a.modRevision());
      assertEquals(3, e.read(v -> v.get("b")).modRevision());
      assertEquals(6, e.read(ReadView::revision));
    }
  }

  @Test
  void reApplyAtOrBelowTheAppliedIndexIsSkipped() {
    try (KvEngine e = KvEngine.open(dir, small())) {
      e.apply(10, 10 << 16, List.of(new Command.Put("k", b("v1"), 0, 0)));
      List<CommandResult> r = e.apply(10, 10 << 16, List.of(new Command.Put("k", b("v2"), 0, 0)));
      assertEquals(List.of(new CommandResult.Skipped(10)), r);
      r = e.apply(9, 9 << 16, List.of(new Command.Put("k", b("v3"), 0, 0)));
      assertEquals(List.of(new CommandResult.Skipped(10)), r);
      assertArrayEquals(b("v1"), e.read(v -> v.get("k")).value());
      assertThrows(
          IllegalArgumentException.class,
          () -> e.apply(11, 5, List.of(new Command.Put("k", b("v4"), 0, 0))));
      assertArrayEquals(b("v1"), e.read(v -> v.get("k")).value());
    }
  }

  @Test
  void indicesSurviveReopenAndKeepGrowing() {
    try (KvEngine e = KvEngine.open(dir, small())) {
      e.apply(1, 1, List.of(new Command.Put("k", b("v1"), 0, 0)));
      e.apply(2, 2, List.of(new Command.Put("k", b("v2"), 0, 0)));
    }
    try (KvEngine e = KvEngine.open(dir, small())) {
      assertEquals(2, e.appliedIndex());
      assertEquals(2, e.lastRevision());
      KvEntry k = e.read(v -> v.get("k"));
      assertEquals(1, k.createRevision());
      assertEquals(2, k.modRevision());
      List<CommandResult> r =
          e.apply(3, e.lastRevision() + 1, List.of(new Command.Put("k", b("v3"), 0, 0)));
      assertEquals(3, ((CommandResult.Written) r.get(0)).revision());
    }
  }

  @Test
  void openTwiceSharesOneEnvironment() {
    KvEngine a = KvEngine.open(dir, small());
    KvEngine b = KvEngine.open(dir.resolve(".").resolve("x").getParent(), small());
    try {
      assertSame(a, b);
      a.apply(1, 1, List.of(new Command.Put("k", b("v"), 0, 0)));
      a.close();
      assertNotNull(b.read(v -> v.get("k")));
    } finally {
      b.close();
    }
    assertTrue(b.isClosed());
    assertThrows(IllegalStateException.class, () -> b.read(v -> v.get("k")));
  }

  @Test
  void mapGrowsWhenFull() {
    try (KvEngine e = KvEngine.open(dir, small())) {
      long before = e.mapSizeBytes();
      byte[] big = new byte[100_000];
      long rev = 1;
      for (int i = 0; i < 40; i++) {
        List<Command> batch = new ArrayList<>();
        for (int j = 0; j < 5; j++) {
          batch.add(new Command.Put("big/" + i + "/" + j, big, 0, 0));
        }
        e.apply(rev + 4, rev, batch);
        rev += 5;
      }
      assertTrue(e.mapSizeBytes() > before, "map grew from " + before);
      assertEquals(200, e.read(v -> v.listPrefix("big/")).size());
      SnapshotInfo snap = e.snapshotTo(dir.resolve("snap"));
      assertEquals(e.appliedIndex(), snap.appliedIndex(), "a snapshot larger than a default map");
      assertEquals(e.lastRevision(), KvEngine.inspectSnapshot(snap.directory()).lastRevision());
    }
  }

  @Test
  void historyIsBoundedAndNamesTheOldestRevision() {
    try (KvEngine e = KvEngine.open(dir, small())) {
      for (int i = 1; i <= 150; i++) {
        e.apply(i, i, List.of(new Command.Put("k" + (i % 7), b("v" + i), 0, 0)));
      }
      assertEquals(50, e.read(ReadView::historyFloor));
      HistoryCompactedException x =
          assertThrows(HistoryCompactedException.class, () -> e.read(v -> v.changesAfter(10, 10)));
      assertEquals(51, x.oldestAvailable());
      assertTrue(x.getMessage().contains("51"), x.getMessage());
      HistoryPage p = e.read(v -> v.changesAfter(50, 1000));
      assertEquals(100, p.changes().size());
      assertEquals(51, p.changes().get(0).revision());
      assertEquals(150, p.scannedTo());
      HistoryPage small = e.read(v -> v.changesAfter(140, 3));
      assertEquals(3, small.changes().size());
      assertEquals(143, small.scannedTo());
    }
  }

  @Test
  void deleteTreeAndLeaseRevokeDeleteEverythingUnder() {
    try (KvEngine e = KvEngine.open(dir, small())) {
      e.apply(
          1,
          1,
          List.of(
              new Command.Put("d", b("dir"), 0, 0),
              new Command.Put("d/a", b("1"), 0, 0),
              new Command.Put("d/b/c", b("2"), 0, 0),
              new Command.Put("dx", b("3"), 0, 0),
              new Command.LeaseGrant(0, 5000),
              new Command.Put("l/1", b("1"), 5, 0),
              new Command.Put("l/2", b("2"), 5, 0),
              new Command.Put("l/3", b("3"), 77, 0)));
      List<CommandResult> r =
          e.apply(2, 10, List.of(new Command.DeleteTree("d"), new Command.LeaseRevoke(5)));
      assertEquals(3, ((CommandResult.Deleted) r.get(0)).previous().size());
      assertEquals(2, ((CommandResult.Deleted) r.get(1)).previous().size());
      assertNull(e.read(v -> v.get("d")));
      assertNotNull(e.read(v -> v.get("dx")));
      assertEquals(List.of(), e.read(v -> v.listPrefix("l/")));
      assertEquals(List.of(), e.read(ReadView::leases));
      List<ChangeEvent> ch = e.read(v -> v.changesAfter(9, 100)).changes();
      assertEquals(5, ch.size());
      assertTrue(ch.stream().allMatch(ChangeEvent::isDeletion));
    }
  }

  @Test
  void keyLeaseEndsWithItsKeyAndLocksQueueInOrder() {
    try (KvEngine e = KvEngine.open(dir, small())) {
      e.apply(1, 1, List.of(new Command.Put("t", b("1"), 0, 3000)));
      assertEquals(List.of(new LeaseInfo(1, 3000, true)), e.read(ReadView::leases));
      e.apply(2, 2, List.of(new Command.Put("t", b("2"), 0, 0)));
      assertEquals(List.of(), e.read(ReadView::leases));
      String q = KvEngine.INTERNAL_PREFIX + "q/x" + KvEngine.INTERNAL_PREFIX;
      List<CommandResult> r =
          e.apply(
              3, 3, List.of(new Command.LockEnqueue(q, 1000), new Command.LockEnqueue(q, 1000)));
      CommandResult.Enqueued first = (CommandResult.Enqueued) r.get(0);
      CommandResult.Enqueued second = (CommandResult.Enqueued) r.get(1);
      assertNull(first.predecessorKey());
      assertEquals(first.waiterKey(), second.predecessorKey());
      assertEquals(List.of(), e.read(v -> v.listPrefix("q")));
      assertEquals(2, e.read(v -> v.listPrefix(q)).size());
      e.apply(4, 5, List.of(new Command.LeaseRevoke(first.leaseId())));
      assertEquals(1, e.read(v -> v.listPrefix(q)).size());
    }
  }

  @Test
  void snapshotCopyAndRestore() {
    Path data = dir.resolve("data");
    Path snap = dir.resolve("snap");
    try (KvEngine e = KvEngine.open(data, small())) {
      e.apply(7, 70, List.of(new Command.Put("a", b("1"), 0, 0)));
      SnapshotInfo info = e.snapshotTo(snap);
      assertEquals(7, info.appliedIndex());
      assertEquals(70, info.lastRevision());
      e.apply(
          8, 80, List.of(new Command.Put("a", b("2"), 0, 0), new Command.Put("b", b("3"), 0, 0)));
      List<Long> restored = new ArrayList<>();
      e.addListener(
          new ApplyListener() {
            @Override
            public void onApplied(AppliedBatch batch) {}

            @Override
            public void onRestored(long appliedIndex, long lastRevision) {
              restored.add(appliedIndex);
            }
          });
      e.restoreFrom(snap);
      assertEquals(List.of(7L), restored);
      assertEquals(7, e.appliedIndex());
      assertArrayEquals(b("1"), e.read(v -> v.get("a")).value());
      assertNull(e.read(v -> v.get("b")));
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> {
          try (KvEngine e = KvEngine.open(data, small())) {
            e.snapshotTo(snap);
          }
        });
  }

  @Test
  void deleteTreeOfAKeyAtTheLengthLimitDoesNotFailItsBatch() {
    try (KvEngine e = KvEngine.open(dir, small())) {
      String longest = "k".repeat(KvEngine.MAX_KEY_BYTES);
      List<CommandResult> r =
          e.apply(
              1,
              1,
              List.of(
                  new Command.Put(longest, b("v"), 0, 0),
                  new Command.DeleteTree(longest),
                  new Command.Put("other", b("v"), 0, 0),
                  new Command.Put(longest + "k", b("v"), 0, 0)));
      assertEquals(1, ((CommandResult.Deleted) r.get(1)).previous().size());
      assertInstanceOf(CommandResult.Written.class, r.get(2));
      assertInstanceOf(CommandResult.Rejected.class, r.get(3));
      assertNull(e.read(v -> v.get(longest)));
      assertEquals(List.of(), e.read(v -> v.listPrefix(longest + "/")));
    }
  }

  /** More concurrent readers than reader slots, and pool overflows: readers wait, never fail. */
  @Test
  void manyConcurrentReadersNeverExhaustTheReaderTable() throws Exception {
    EngineOptions few = EngineOptions.builder().maxReaders(16).historySize(100).build();
    try (KvEngine e = KvEngine.open(dir, few)) {
      e.apply(1, 1, List.of(new Command.Put("k", b("v"), 0, 0)));
      java.util.concurrent.ExecutorService pool =
          java.util.concurrent.Executors.newFixedThreadPool(48);
      try {
        List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 48; t++) {
          fs.add(
              pool.submit(
                  () -> {
                    for (int i = 0; i < 400; i++) {
                      assertNotNull(e.read(v -> v.get("k")));
                    }
                  }));
        }
        for (java.util.concurrent.Future<?> f : fs) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      assertNotNull(e.read(v -> v.get("k")));
    }
  }

  @Test
  void userCommandsWithNonNormalOrInternalKeysAreRejected() {
    try (KvEngine e = KvEngine.open(dir, small())) {
      String internal = KvEngine.INTERNAL_PREFIX + "lock/x" + KvEngine.INTERNAL_PREFIX + "1";
      List<Command> hostile =
          List.of(
              new Command.Put("a//b", b("v"), 0, 0),
              new Command.Put("/a", b("v"), 0, 0),
              new Command.Put("a/", b("v"), 0, 0),
              new Command.Put("x/../y", b("v"), 0, 0),
              new Command.Put("bad\u0001ctl", b("v"), 0, 0),
              new Command.Put(internal, b("v"), 0, 0),
              new Command.CasPut(internal, b("v"), 0, 0, 0),
              new Command.Delete(internal),
              new Command.CasDelete(internal, 1),
              new Command.DeleteTree("a/./b"));
      List<CommandResult> r = e.apply(1, 1, hostile);
      for (int i = 0; i < r.size(); i++) {
        assertInstanceOf(CommandResult.Rejected.class, r.get(i), hostile.get(i).toString());
      }
      assertEquals(List.of(), e.read(v -> v.listPrefix("")));
    }
  }

  @Test
  void aFullMapFailsWritesThatAddDataButLetsDeletesFreeSpace() {
    EngineOptions capped =
        EngineOptions.builder()
            .initialMapSizeBytes(1 << 20)
            .maxMapSizeBytes(1 << 20)
            .historySize(16)
            .build();
    try (KvEngine e = KvEngine.open(dir, capped)) {
      byte[] value = new byte[8192];
      long rev = 1;
      int stored = 0;
      CommandResult last = null;
      while (stored < 1000) {
        last = e.apply(rev, rev, List.of(new Command.Put("f/" + stored, value, 0, 0))).get(0);
        rev++;
        if (!last.isOk()) {
          break;
        }
        stored++;
      }
      assertInstanceOf(CommandResult.Failed.class, last, "the map filled up");
      assertTrue(stored > 10, "stored " + stored);
      String msg = last.toException().getMessage();
      assertTrue(msg.contains("full") && msg.contains("1048576"), msg);
      assertEquals(1 << 20, e.mapSizeBytes(), "never grown past the limit");
      for (int i = 0; i < stored; i++) {
        int n = i;
        assertArrayEquals(value, e.read(v -> v.get("f/" + n)).value());
      }
      for (int i = 0; i < stored; i += 2) {
        CommandResult d = e.apply(rev, rev, List.of(new Command.Delete("f/" + i))).get(0);
        rev++;
        assertTrue(d.isOk(), "delete on a full map: " + d);
      }
      CommandResult again =
          e.apply(rev, rev, List.of(new Command.Put("f/new", value, 0, 0))).get(0);
      assertTrue(again.isOk(), "after deletes a put fits again: " + again);
    }
  }

  @Test
  void listenerSeesCommittedChanges() {
    try (KvEngine e = KvEngine.open(dir, small())) {
      List<AppliedBatch> seen = new ArrayList<>();
      e.addListener(seen::add);
      e.apply(1, 1, List.of(new Command.Put("a", b("1"), 0, 0), new Command.Delete("a")));
      assertEquals(1, seen.size());
      assertEquals(2, seen.get(0).changes().size());
      assertNull(seen.get(0).changes().get(1).value());
      assertEquals(2, seen.get(0).changes().get(1).revision());
    }
  }
}
