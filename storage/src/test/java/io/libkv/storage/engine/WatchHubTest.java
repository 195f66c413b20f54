package io.libkv.storage.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.Watch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The watch fan-out, driven by the engine's commits or by polling a reader. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WatchHubTest {
  @TempDir Path dir;

  private KvEngine engine;
  private WatchHub hub;
  private EngineStore store;
  private final ExecutorService pool = Executors.newCachedThreadPool();

  private void open(boolean polling) {
    open(polling, 1 << 22);
  }

  /** A hub whose broadcast buffer holds only {@code bufferBytes}, so readers get lapped. */
  private void open(boolean polling, int bufferBytes) {
    engine = KvEngine.open(dir, EngineOptions.builder().sync(false).build());
    CommandSubmitter submitter =
        c -> {
          synchronized (this) {
            long rev = engine.lastRevision() + 1;
            return CompletableFuture.completedFuture(engine.apply(rev, rev, List.of(c)).get(0));
          }
        };
    KvReader reader = engine::read;
    hub =
        polling
            ? new WatchHub(reader, "poll", Duration.ofMillis(20))
            : new WatchHub(engine, "e", bufferBytes);
    store = new EngineStore("t", submitter, reader, hub, Config.defaults(), closed -> {});
  }

  @AfterEach
  void close() {
    pool.shutdownNow();
    store.close();
    hub.close();
    engine.close();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @ParameterizedTest(name = "polling={0}")
  @ValueSource(booleans = {false, true})
  void keyAndTreeWatchesSeeEveryChange(boolean polling) throws Exception {
    open(polling);
    store.put("d/a", b("1"), null);
    try (Watch<KVPair> w = store.watch("d/a");
        Watch<List<KVPair>> t = store.watchTree("d")) {
      assertArrayEquals(b("1"), w.poll(Duration.ofSeconds(5)).value());
      assertEquals(1, t.poll(Duration.ofSeconds(5)).size());
      store.put("d/b", b("2"), null);
      store.deleteTree("d");
      List<KVPair> l = t.poll(Duration.ofSeconds(5));
      assertEquals(2, l.size(), "one list per revision: " + l);
      assertEquals(List.of(), t.poll(Duration.ofSeconds(5)));
      KVPair del = w.poll(Duration.ofSeconds(5));
      assertNull(del.value());
      assertNull(w.poll(Duration.ofMillis(100)));
    }
  }

  /** Resuming while a writer runs: the replay and the live changes meet without gap or dup. */
  @ParameterizedTest(name = "polling={0}")
  @ValueSource(booleans = {false, true})
  void resumeSeamHasNoGapAndNoDuplicate(boolean polling) throws Exception {
    open(polling);
    int n = 2000;
    AtomicLong midway = new AtomicLong();
    Future<?> writer =
        pool.submit(
            () -> {
              for (int i = 1; i <= n; i++) {
                store.put("seam", b(Integer.toString(i)), null);
                if (i == 200) {
                  midway.set(store.get("seam").lastIndex());
                }
              }
            });
    while (midway.get() == 0) {
      Thread.onSpinWait();
    }
    long from = midway.get();
    List<Long> seen = new ArrayList<>();
    try (Watch<KVPair> w = store.watch("seam", from)) {
      while (true) {
        KVPair ev = w.poll(Duration.ofSeconds(10));
        assertNotNull(ev, "events stopped after " + seen.size());
        seen.add(ev.lastIndex());
        if (ev.valueAsString().equals(Integer.toString(n))) {
          break;
        }
      }
    }
    writer.get(30, TimeUnit.SECONDS);
    for (int i = 0; i < seen.size(); i++) {
      assertEquals(from + 1 + i, seen.get(i), "event " + i + " (every write is one revision)");
    }
    assertEquals(n - 200, seen.size());
  }

  @Test
  void restoreMakesWatchesResync() throws Exception {
    open(false);
    store.put("r", b("old"), null);
    SnapshotInfo snap = engine.snapshotTo(dir.resolveSibling(dir.getFileName() + "-snap"));
    store.put("r", b("new"), null);
    store.put("gone-after-restore", b("x"), null);
    try (Watch<KVPair> w = store.watch("gone-after-restore");
        Watch<KVPair> r = store.watch("r")) {
      assertNotNull(w.poll(Duration.ofSeconds(5)));
      assertArrayEquals(b("new"), r.poll(Duration.ofSeconds(5)).value());
      synchronized (this) {
        engine.restoreFrom(snap.directory());
      }
      KVPair ev = w.poll(Duration.ofSeconds(5));
      assertNotNull(ev, "the restored state reaches the watch");
      assertTrue(ev.isDeletion());
      assertArrayEquals(b("old"), r.poll(Duration.ofSeconds(5)).value());
    }
  }

  // ------------------------------------------------------------ broadcast buffer: lapped readers

  private static final int SMALL_BUFFER = 8 << 10; // messages up to 1 KiB; ~25 puts fill it

  @Test
  void aLappedKeyWatchResyncsToTheLatestStateInIndexOrder() throws Exception {
    open(false, SMALL_BUFFER);
    store.put("lap/k", b("0"), null);
    try (Watch<KVPair> w = store.watch("lap/k")) {
      assertArrayEquals(b("0"), w.poll(Duration.ofSeconds(5)).value());
      for (int i = 1; i <= 2000; i++) {
        store.put(i % 3 == 0 ? "lap/other" : "lap/k", b(Integer.toString(i)), null);
      }
      KVPair latest = store.get("lap/k");
      long last = 0;
      int n = 0;
      KVPair e;
      while ((e = w.poll(Duration.ofMillis(500))) != null) {
        assertTrue(e.lastIndex() > last, "never an older state after a newer one: " + e);
        last = e.lastIndex();
        n++;
      }
      assertEquals(latest.lastIndex(), last, "the watcher ends at the latest state");
      assertTrue(n < 100, "lapped: the backlog was coalesced, " + n + " events");
      store.put("lap/k", b("after"), null);
      assertArrayEquals(b("after"), w.poll(Duration.ofSeconds(5)).value(), "and it follows again");
    }
  }

  @Test
  void aDeletionWhileLappedIsAnEvent() throws Exception {
    open(false, SMALL_BUFFER);
    store.put("lapdel/k", b("v"), null);
    try (Watch<KVPair> w = store.watch("lapdel/k")) {
      assertNotNull(w.poll(Duration.ofSeconds(5)));
      for (int i = 0; i < 500; i++) {
        store.put("lapdel/noise", b(Integer.toString(i)), null);
      }
      store.delete("lapdel/k");
      for (int i = 0; i < 500; i++) {
        store.put("lapdel/noise", b(Integer.toString(i)), null);
      }
      KVPair e = w.poll(Duration.ofSeconds(5));
      assertNotNull(e, "the deletion is delivered");
      assertNull(e.value(), "as a deletion event: " + e);
      assertNull(w.poll(Duration.ofMillis(200)), "and nothing else");
    }
  }

  @Test
  void aLappedTreeWatchResyncsToTheCurrentList() throws Exception {
    open(false, SMALL_BUFFER);
    try (Watch<List<KVPair>> t = store.watchTree("laptree")) {
      assertEquals(List.of(), t.poll(Duration.ofSeconds(5)));
      for (int i = 0; i < 1000; i++) {
        store.put("laptree/k" + (i % 7), b(Integer.toString(i)), null);
      }
      store.delete("laptree/k3");
      List<KVPair> expected = store.list("laptree");
      List<KVPair> last = null;
      List<KVPair> l;
      while ((l = t.poll(Duration.ofMillis(500))) != null) {
        last = l;
      }
      assertNotNull(last);
      assertEquals(
          expected.stream().map(p -> p.key() + "@" + p.lastIndex()).toList(),
          last.stream().map(p -> p.key() + "@" + p.lastIndex()).toList());
    }
  }

  @Test
  void aValueTooLargeForTheBufferIsReadFromTheEngine() throws Exception {
    open(false, SMALL_BUFFER);
    byte[] big = new byte[4096]; // over the 1 KiB message limit of an 8 KiB buffer
    big[4095] = 7;
    try (Watch<KVPair> w = store.watch("big/k");
        Watch<List<KVPair>> t = store.watchTree("big")) {
      assertEquals(List.of(), t.poll(Duration.ofSeconds(5)));
      store.put("big/k", big, null);
      KVPair e = w.poll(Duration.ofSeconds(5));
      assertArrayEquals(big, e.value());
      assertEquals(store.get("big/k").lastIndex(), e.lastIndex());
      assertArrayEquals(big, t.poll(Duration.ofSeconds(5)).get(0).value());
    }
  }

  @Test
  void aBlockedTakeIsWokenByAWriteAndEndsWithClose() throws Exception {
    open(false);
    Watch<KVPair> w = store.watch("wake/k");
    Future<KVPair> taken = pool.submit(() -> w.take());
    Watch<List<KVPair>> t = store.watchTree("wake");
    assertEquals(List.of(), t.take());
    Future<List<KVPair>> tree = pool.submit(() -> t.take());
    store.put("wake/k", b("v"), null);
    assertArrayEquals(b("v"), taken.get(10, TimeUnit.SECONDS).value());
    assertEquals(1, tree.get(10, TimeUnit.SECONDS).size());
    t.close();
    Future<KVPair> blocked = pool.submit(() -> w.take());
    w.close();
    java.util.concurrent.ExecutionException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            java.util.concurrent.ExecutionException.class, () -> blocked.get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof io.libkv.store.WatchClosedException, e.toString());
  }
}
