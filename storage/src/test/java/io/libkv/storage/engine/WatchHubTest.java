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
    engine = KvEngine.open(dir, EngineOptions.builder().sync(false).build());
    CommandSubmitter submitter =
        c -> {
          synchronized (this) {
            long rev = engine.lastRevision() + 1;
            return CompletableFuture.completedFuture(engine.apply(rev, rev, List.of(c)).get(0));
          }
        };
    KvReader reader = engine::read;
    hub = polling ? new WatchHub(reader, "poll", Duration.ofMillis(20)) : new WatchHub(engine, "e");
    store = new EngineStore("t", submitter, reader, hub, Config.defaults(), () -> {});
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
}
