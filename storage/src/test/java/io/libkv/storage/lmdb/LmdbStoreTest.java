package io.libkv.storage.lmdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.HistoryCompactedException;
import io.libkv.store.KVPair;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import io.libkv.store.WriteOptions;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LmdbStoreTest {
  @TempDir Path dir;

  private Store open(Path d, String... options) {
    Config.Builder b = Config.builder().dataDir(d);
    for (int i = 0; i < options.length; i += 2) {
      b.option(options[i], options[i + 1]);
    }
    return LibKV.newStore(Backend.LMDB, List.of(), b.build());
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void badConfigurationIsRefusedClearly() {
    IllegalArgumentException noDir =
        assertThrows(
            IllegalArgumentException.class,
            () -> LibKV.newStore(Backend.LMDB, List.of(), Config.defaults()));
    assertTrue(noDir.getMessage().contains("dataDir"), noDir.getMessage());
    IllegalArgumentException endpoints =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LibKV.newStore(
                    Backend.LMDB, List.of("/tmp/x.db"), Config.builder().dataDir(dir).build()));
    assertTrue(endpoints.getMessage().contains("endpoints"), endpoints.getMessage());
    assertThrows(IllegalArgumentException.class, () -> open(dir, "lmdb.sync", "maybe"));
    assertThrows(IllegalArgumentException.class, () -> open(dir, "lmdb.mapSize", "big"));
    assertThrows(IllegalArgumentException.class, () -> open(dir, "lmdb.historySize", "0"));
    IllegalArgumentException unknown =
        assertThrows(IllegalArgumentException.class, () -> open(dir, "lmdb.colour", "blue"));
    assertTrue(unknown.getMessage().contains("lmdb.colour"), unknown.getMessage());
  }

  @Test
  void indicesKeepGrowingAcrossReopen() {
    long before;
    try (Store s = open(dir)) {
      s.put("k", b("1"), null);
      s.put("k", b("2"), null);
      before = s.get("k").lastIndex();
    }
    try (Store s = open(dir)) {
      KVPair p = s.get("k");
      assertEquals(before, p.lastIndex());
      s.put("other", b("x"), null);
      assertTrue(s.get("other").lastIndex() > before, "revision never goes back");
    }
  }

  @Test
  void unsyncedStoreWorksAndStoresOnOneDirShareEverything() throws Exception {
    try (Store a = open(dir, "lmdb.sync", "false");
        Store b = open(dir)) {
      try (Watch<KVPair> w = b.watch("shared")) {
        a.put("shared", b("hello"), null);
        KVPair ev = w.poll(Duration.ofSeconds(5));
        assertNotNull(ev);
        assertArrayEquals(b("hello"), ev.value());
      }
      assertArrayEquals(b("hello"), b.get("shared").value());
    }
  }

  @Test
  void groupCommitGivesEveryConcurrentWriteItsOwnIndex() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try (Store s = open(dir)) {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int id = t;
        fs.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 100; i++) {
                    s.put("g/" + id + "/" + i, b(id + ":" + i), null);
                  }
                }));
      }
      for (Future<?> f : fs) {
        f.get(60, TimeUnit.SECONDS);
      }
      List<KVPair> all = s.list("g");
      assertEquals(800, all.size());
      Set<Long> indices = all.stream().map(KVPair::lastIndex).collect(Collectors.toSet());
      assertEquals(800, indices.size(), "one index per write");
      for (KVPair p : all) {
        String[] parts = p.key().split("/");
        assertEquals(parts[1] + ":" + parts[2], p.valueAsString());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void watchResumeOlderThanTheHistoryNamesTheOldestIndex() throws Exception {
    try (Store s = open(dir, "lmdb.historySize", "10")) {
      for (int i = 0; i < 30; i++) {
        s.put("h", b("v" + i), null);
      }
      long last = s.get("h").lastIndex();
      StoreException e = assertThrows(StoreException.class, () -> s.watch("h", 1));
      assertTrue(e instanceof HistoryCompactedException, e.toString());
      assertTrue(e.getMessage().contains(String.valueOf(last - 9)), e.getMessage());
      try (Watch<KVPair> w = s.watch("h", last - 1)) {
        assertEquals(last, w.poll(Duration.ofSeconds(5)).lastIndex());
      }
    }
  }

  @Test
  void badInputChangesNothing() {
    try (Store s = open(dir)) {
      s.put("keep", b("v"), null);
      long idx = s.get("keep").lastIndex();
      assertThrows(IllegalArgumentException.class, () -> s.put("", b("x"), null));
      assertThrows(IllegalArgumentException.class, () -> s.put("a//b", b("x"), null));
      assertThrows(IllegalArgumentException.class, () -> s.put("k".repeat(512), b("x"), null));
      assertThrows(
          IllegalArgumentException.class, () -> s.put("keep", new byte[(1 << 20) + 1], null));
      assertThrows(NullPointerException.class, () -> s.put("keep", null, null));
      assertThrows(NullPointerException.class, () -> s.put(null, b("x"), null));
      assertThrows(IllegalArgumentException.class, () -> s.watch("keep", -1));
      assertEquals(List.of(), s.list("keep"));
      KVPair kept = s.get("keep");
      assertArrayEquals(b("v"), kept.value());
      assertEquals(idx, kept.lastIndex());
      s.put("next", b("n"), null);
      assertEquals(idx + 1, s.get("next").lastIndex(), "refused calls used no index");
    }
  }

  @Test
  void bucketsAreIsolatedKeySpaces() {
    Config.Builder base = Config.builder().dataDir(dir);
    try (Store plain = open(dir);
        Store b1 = LibKV.newStore(Backend.LMDB, List.of(), base.bucket("b1").build());
        Store b2 = LibKV.newStore(Backend.LMDB, List.of(), base.bucket("b2").build())) {
      plain.put("k", b("plain"), null);
      b1.put("k", b("one"), null);
      assertFalse(b2.exists("k"));
      assertArrayEquals(b("plain"), plain.get("k").value());
      assertArrayEquals(b("one"), b1.get("k").value());
      assertEquals(List.of(), plain.list("k"));
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> LibKV.newStore(Backend.LMDB, List.of(), base.bucket("../x").build()));
  }

  @Test
  void aDataDirectoryLockedElsewhereIsRefusedClearly() throws Exception {
    Files.createDirectories(dir);
    try (FileChannel ch =
        FileChannel.open(
            dir.resolve("libkv.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      FileLock held = ch.lock();
      try {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> open(dir));
        assertTrue(e.getMessage().contains("in use"), e.getMessage());
      } finally {
        held.release();
      }
    }
    try (Store s = open(dir)) {
      s.put("after", b("ok"), null);
    }
  }

  @Test
  void ttlsRunOnTheConfiguredClockAndSurviveARestartWithAFullTtl() throws Exception {
    AtomicLong clock = new AtomicLong();
    Config config = Config.builder().dataDir(dir).clock(clock::get).build();
    try (Store s = LibKV.newStore(Backend.LMDB, List.of(), config)) {
      s.put("t", b("v"), WriteOptions.ttl(Duration.ofMinutes(60)));
      clock.addAndGet(Duration.ofMinutes(59).toNanos());
    }
    // A new process (clock) after a restart: the lease starts a full TTL again.
    clock.set(-12345);
    try (Store s = LibKV.newStore(Backend.LMDB, List.of(), config)) {
      clock.addAndGet(Duration.ofMinutes(59).toNanos());
      assertStaysFor(Duration.ofMillis(300), () -> s.exists("t"));
      clock.addAndGet(Duration.ofMinutes(2).toNanos());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (s.exists("t")) {
        assertTrue(System.nanoTime() < deadline, "ttl key never expired");
        TimeUnit.MILLISECONDS.sleep(10);
      }
    }
  }

  private static void assertStaysFor(Duration d, java.util.function.BooleanSupplier c)
      throws InterruptedException {
    long until = System.nanoTime() + d.toNanos();
    while (System.nanoTime() < until) {
      assertTrue(c.getAsBoolean(), "expired early");
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  @Test
  void noThreadOutlivesTheLastClose() throws Exception {
    Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
    Store a = open(dir);
    Store b = open(dir);
    a.put("x", b("1"), null);
    Watch<KVPair> w = b.watch("x");
    assertNotNull(w.poll(Duration.ofSeconds(5)));
    a.newLock("l", null).lock();
    a.close();
    b.close();
    assertFalse(
        Thread.getAllStackTraces().keySet().stream()
            .anyMatch(t -> !before.contains(t) && t.isAlive() && t.getName().startsWith("libkv")),
        "libkv threads left: "
            + Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t) && t.isAlive())
                .map(Thread::getName)
                .toList());
    assertTrue(w.isClosed());
  }
}
