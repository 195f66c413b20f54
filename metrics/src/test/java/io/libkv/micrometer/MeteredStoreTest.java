package io.libkv.micrometer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.AsyncStore;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.HeldLock;
import io.libkv.store.KVPair;
import io.libkv.store.KeyExistsException;
import io.libkv.store.KeyModifiedException;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.Locker;
import io.libkv.store.PreviousNotSpecifiedException;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MeteredStoreTest {
  private final MockClock clock = new MockClock();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);

  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private Timer timer(String backend, String op, String outcome) {
    return registry
        .find(MeteredStore.CALLS)
        .tags(
            MeteredStore.BACKEND_TAG,
            backend,
            MeteredStore.OPERATION_TAG,
            op,
            MeteredStore.OUTCOME_TAG,
            outcome)
        .timer();
  }

  private long count(String backend, String op, String outcome) {
    Timer t = timer(backend, op, outcome);
    return t == null ? 0 : t.count();
  }

  /** Pipelined calls are recorded when their future completes, on the completing thread. */
  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(5);
    }
  }

  @Test
  void everyCallOfAnLmdbStoreIsRecordedByOperationAndOutcome() throws Exception {
    Store raw = LibKV.newStore(Backend.LMDB, List.of(), Config.builder().dataDir(dir).build());
    Store store = MeteredStore.wrap(raw, registry, "lmdb");
    assertInstanceOf(AsyncStore.class, store, "an AsyncStore stays one when wrapped");
    AsyncStore async = (AsyncStore) store;

    // Every success timer shows before the first call.
    for (Operation op : Operation.values()) {
      assertNotNull(timer("lmdb", op.tag, MeteredStore.SUCCESS), op.tag);
    }

    store.put("a/b", b("1"), null);
    KVPair p = store.get("a/b");
    assertArrayEquals(b("1"), p.value());
    assertTrue(store.exists("a/b"));
    assertEquals(1, store.list("a").size());
    KVPair c = store.atomicPut("a/c", b("2"), null, null);
    assertTrue(store.atomicDelete("a/c", c));
    try (Watch<KVPair> w = store.watch("a/b")) {
      assertEquals(p.lastIndex(), w.poll(Duration.ofSeconds(10)).lastIndex());
    }
    try (Watch<KVPair> w = store.watch("a/b", p.lastIndex() - 1)) {
      assertEquals(p.lastIndex(), w.poll(Duration.ofSeconds(10)).lastIndex());
    }
    try (Watch<List<KVPair>> w = store.watchTree("a")) {
      assertEquals(1, w.poll(Duration.ofSeconds(10)).size());
    }
    Locker locker = store.newLock("locks/x", null);
    HeldLock held = locker.lock(Duration.ofSeconds(10));
    assertTrue(held.fencingToken() > 0);
    locker.unlock();
    KVPair d = async.putAsync("a/d", b("3"), null).join();
    KVPair e = async.atomicPutAsync("a/e", b("4"), null, null).join();
    assertTrue(async.atomicDeleteAsync("a/e", e).join());
    async.deleteAsync("a/d").join();
    assertTrue(d.lastIndex() > p.lastIndex());
    store.delete("a/b");
    store.deleteTree("a");

    // Failures: the very exception the store throws, recorded under its simple name.
    assertThrows(KeyNotFoundException.class, () -> store.get("a/b"));
    assertThrows(KeyNotFoundException.class, () -> store.delete("a/b"));
    assertThrows(KeyNotFoundException.class, () -> store.list("a"));
    KVPair f = store.atomicPut("f", b("5"), null, null);
    assertThrows(KeyExistsException.class, () -> store.atomicPut("f", b("6"), null, null));
    store.put("f", b("7"), null);
    assertThrows(KeyModifiedException.class, () -> store.atomicDelete("f", f));
    assertThrows(PreviousNotSpecifiedException.class, () -> store.atomicDelete("f", null));
    assertThrows(IllegalArgumentException.class, () -> store.put("", b("x"), null));
    CompletionException late =
        assertThrows(CompletionException.class, () -> async.deleteAsync("gone").join());
    assertInstanceOf(KeyNotFoundException.class, late.getCause());
    store.close();

    String[][] expected = {
      {"put", "success", "2"},
      {"get", "success", "1"},
      {"exists", "success", "1"},
      {"list", "success", "1"},
      {"atomicPut", "success", "2"},
      {"atomicDelete", "success", "1"},
      {"watch", "success", "2"},
      {"watchTree", "success", "1"},
      {"newLock", "success", "1"},
      {"lock", "success", "1"},
      {"unlock", "success", "1"},
      {"putAsync", "success", "1"},
      {"atomicPutAsync", "success", "1"},
      {"atomicDeleteAsync", "success", "1"},
      {"deleteAsync", "success", "1"},
      {"delete", "success", "1"},
      {"deleteTree", "success", "1"},
      {"close", "success", "1"},
      {"get", "KeyNotFoundException", "1"},
      {"delete", "KeyNotFoundException", "1"},
      {"list", "KeyNotFoundException", "1"},
      {"atomicPut", "KeyExistsException", "1"},
      {"atomicDelete", "KeyModifiedException", "1"},
      {"atomicDelete", "PreviousNotSpecifiedException", "1"},
      {"put", "IllegalArgumentException", "1"},
      {"deleteAsync", "KeyNotFoundException", "1"},
    };
    for (String[] x : expected) {
      long want = Long.parseLong(x[2]);
      await(() -> count("lmdb", x[0], x[1]) == want, x[0] + " " + x[1] + " x" + want);
    }
    long recorded =
        registry.find(MeteredStore.CALLS).timers().stream().mapToLong(Timer::count).sum();
    long listed = 0;
    for (String[] x : expected) {
      listed += Long.parseLong(x[2]);
    }
    assertEquals(listed, recorded, "no call recorded twice or under another name");
  }

  /** What a {@link FakeStore} does when called: the same for every method. */
  private interface Behaviour {
    Object call(String method) throws Throwable;
  }

  /** A store whose every method moves the clock by 7 ms, then does what the test says. */
  private <T extends Store> T fake(Class<T> type, Behaviour behaviour) {
    Object proxy =
        Proxy.newProxyInstance(
            getClass().getClassLoader(),
            new Class<?>[] {type},
            (self, method, args) -> {
              if (method.getName().equals("toString")) {
                return "fake";
              }
              clock.add(Duration.ofMillis(7));
              return behaviour.call(method.getName());
            });
    return type.cast(proxy);
  }

  @Test
  void exceptionsPassThroughUnchangedAndTheTimeUntilTheThrowIsRecorded() {
    StoreException boom = new StoreException("backend down");
    Store store =
        MeteredStore.wrap(
            fake(
                Store.class,
                m -> {
                  throw boom;
                }),
            registry,
            "fake");
    assertFalse(store instanceof AsyncStore, "a blocking store does not become an AsyncStore");
    assertSame(boom, assertThrows(StoreException.class, () -> store.get("k")));
    assertSame(boom, assertThrows(StoreException.class, () -> store.exists("k")));
    Timer t = timer("fake", "get", "StoreException");
    assertEquals(1, t.count());
    assertEquals(7, t.totalTime(TimeUnit.MILLISECONDS), 0.001);
    assertEquals(1, timer("fake", "exists", "StoreException").count());
    assertEquals(0, timer("fake", "get", MeteredStore.SUCCESS).count());
  }

  @Test
  void aPipelinedCallReturnsTheDelegatesFutureAndIsTimedUntilItCompletes() {
    List<CompletableFuture<Object>> futures = new ArrayList<>();
    AsyncStore store =
        MeteredStore.wrap(
            fake(
                AsyncStore.class,
                m -> {
                  CompletableFuture<Object> f = new CompletableFuture<>();
                  futures.add(f);
                  return f;
                }),
            registry,
            "fake");
    CompletableFuture<KVPair> put = store.putAsync("k", b("v"), null);
    CompletableFuture<Void> del = store.deleteAsync("k");
    assertSame(futures.get(0), put, "the caller gets the delegate's own future");
    assertSame(futures.get(1), del);
    assertEquals(0, timer("fake", "putAsync", MeteredStore.SUCCESS).count(), "not done yet");

    clock.add(Duration.ofMillis(5));
    futures.get(0).complete(null);
    KeyNotFoundException missing = new KeyNotFoundException("k");
    futures.get(1).completeExceptionally(missing);

    // Completed on this thread: the callbacks have run.
    Timer ok = timer("fake", "putAsync", MeteredStore.SUCCESS);
    assertEquals(1, ok.count());
    assertEquals(19, ok.totalTime(TimeUnit.MILLISECONDS), 0.001, "7 + 7 ms to call, 5 to complete");
    assertEquals(1, timer("fake", "deleteAsync", "KeyNotFoundException").count());
    assertSame(missing, assertThrows(CompletionException.class, del::join).getCause());
  }

  @Test
  void anArgumentRefusedAtOnceByAPipelinedCallIsRecordedAndRethrown() {
    IllegalArgumentException bad = new IllegalArgumentException("empty key");
    AsyncStore store =
        MeteredStore.wrap(
            fake(
                AsyncStore.class,
                m -> {
                  throw bad;
                }),
            registry,
            "fake");
    assertSame(
        bad, assertThrows(IllegalArgumentException.class, () -> store.putAsync("", b("v"), null)));
    assertEquals(1, timer("fake", "putAsync", "IllegalArgumentException").count());
  }

  @Test
  void anInterruptedLockWaitIsRecordedAndRethrown() throws Exception {
    InterruptedException interrupted = new InterruptedException("stop");
    Locker locker =
        (Locker)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {Locker.class},
                (self, method, args) -> {
                  throw interrupted;
                });
    Store store = MeteredStore.wrap(fake(Store.class, m -> locker), registry, "fake");
    Locker timed = store.newLock("l", null);
    assertSame(interrupted, assertThrows(InterruptedException.class, timed::lock));
    assertEquals(1, timer("fake", "newLock", MeteredStore.SUCCESS).count());
    assertEquals(1, timer("fake", "lock", "InterruptedException").count());
  }

  @Test
  void aBlankBackendNameIsRefused() {
    Store store = fake(Store.class, m -> null);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> MeteredStore.wrap(store, registry, " "));
    assertTrue(e.getMessage().contains("backend"), e.getMessage());
  }
}
