package io.libkv.bench;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-memory target for testing the runner's mechanics (counting, windows, watch latency): a real
 * map with real compare-and-set, so the runner's counts can be checked against it.
 */
final class MapTarget implements Target {
  record Entry(byte[] value, long version) {}

  final ConcurrentHashMap<String, Entry> map = new ConcurrentHashMap<>();
  final AtomicLong puts = new AtomicLong();
  final AtomicLong gets = new AtomicLong();
  private final AtomicLong version = new AtomicLong();
  private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
  volatile boolean closed;
  volatile boolean down;
  volatile boolean classPathBroken;

  /** Whether {@link #putAsync} is offered (as for a store implementing AsyncStore). */
  volatile boolean pipelining;

  /** Pipelined puts that failed on purpose: every n-th, 0 for none. */
  volatile int failEveryNthAsync;

  private final AtomicLong asyncPuts = new AtomicLong();

  private record Watcher(String key, LinkedBlockingQueue<byte[]> events) {}

  @Override
  public String name() {
    return "map";
  }

  @Override
  public void put(String key, byte[] value) {
    map.put(key, new Entry(value, version.incrementAndGet()));
    puts.incrementAndGet();
    for (Watcher w : watchers) {
      if (w.key().equals(key)) {
        w.events().add(value);
      }
    }
  }

  @Override
  public boolean pipelines() {
    return pipelining;
  }

  /** Completes each put on another thread, as a backend's I/O thread would. */
  @Override
  public CompletableFuture<?> putAsync(String key, byte[] value) {
    if (!pipelining) {
      throw new UnsupportedOperationException("not pipelining");
    }
    long n = asyncPuts.incrementAndGet();
    int every = failEveryNthAsync;
    return CompletableFuture.runAsync(
        () -> {
          if (every > 0 && n % every == 0) {
            throw new IllegalStateException("async put " + n + " failed on purpose");
          }
          put(key, value);
        });
  }

  @Override
  public boolean get(String key) {
    if (down) {
      throw new IllegalStateException("backend down: " + key);
    }
    if (classPathBroken) {
      throw new NoClassDefFoundError("io/libkv/Missing");
    }
    gets.incrementAndGet();
    return map.containsKey(key);
  }

  @Override
  public boolean cas(String key, byte[] value) {
    Entry seen = map.get(key);
    if (seen == null) {
      return false;
    }
    return map.replace(key, seen, new Entry(value, version.incrementAndGet()));
  }

  @Override
  public Subscription watch(String key) {
    Watcher w = new Watcher(key, new LinkedBlockingQueue<>());
    Entry now = map.get(key);
    if (now != null) {
      w.events().add(now.value());
    }
    watchers.add(w);
    return new Subscription() {
      @Override
      public byte[] next(Duration timeout) throws InterruptedException {
        return w.events().poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
      }

      @Override
      public void close() {
        watchers.remove(w);
      }
    };
  }

  int watcherCount() {
    return watchers.size();
  }

  @Override
  public void close() {
    closed = true;
  }
}
