package io.libkv.consul;

import io.libkv.spi.WatchQueue;
import io.libkv.store.KVPair;
import io.libkv.store.StoreException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A blocking-query loop feeding a {@link WatchQueue}: {@code GET} without an index for the current
 * state, then {@code ?index=<X-Consul-Index>&wait=...} again and again, following Consul's rules
 * for blocking queries: reset the index to 0 when it goes backwards, never block on an index under
 * 1, and rate-limit the loop (a token bucket, burst 3, one request per 100 ms sustained) so that a
 * churning result cannot turn it into a busy loop.
 *
 * <p>No thread waits: each answer arrives on the HTTP client's executor, which hands the event to
 * the queue and sends the next request. {@link WatchQueue#close()} cancels the request in flight.
 * Transport failures are retried with backoff; once they have lasted longer than the connection
 * timeout, the watch fails with the last cause.
 */
final class ConsulWatcher<T> {
  private static final long REFILL_NS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final int BURST = 3;

  private final ConsulStore store;
  private final String path;
  private final String what;
  private final Function<ConsulHttp.Response, T> decoder;
  private final WatchQueue<T> queue;
  private final Object lock = new Object();
  private long index;
  private long failingSinceNs = -1;
  private long backoffMs = 50;
  private double tokens = BURST;
  private long lastRefillNs = System.nanoTime();
  private Future<?> inFlight;
  private long requests;

  private ConsulWatcher(
      ConsulStore store,
      String path,
      String what,
      int capacity,
      Function<ConsulHttp.Response, T> decoder) {
    this.store = store;
    this.path = path;
    this.what = what;
    this.decoder = decoder;
    this.queue = new WatchQueue<>(what, capacity, this::onClose);
  }

  /** A watch of one key: the current pair, then each change seen; deletions as null values. */
  static ConsulWatcher<KVPair> forKey(ConsulStore store, String key) {
    KeyDecoder d = new KeyDecoder(key);
    return new ConsulWatcher<>(store, ConsulPaths.kv(key), "watch " + key, 1024, d);
  }

  /** A watch of a directory: the whole list after every change under it. */
  static ConsulWatcher<List<KVPair>> forTree(ConsulStore store, String dir) {
    TreeDecoder d = new TreeDecoder(dir);
    return new ConsulWatcher<>(
        store, ConsulPaths.kv(dir + "/") + "?recurse", "watchTree " + dir, 1, d);
  }

  WatchQueue<T> queue() {
    return queue;
  }

  /** Requests sent so far; for tests. */
  long requests() {
    synchronized (lock) {
      return requests;
    }
  }

  void start() {
    issue();
  }

  private void issue() {
    synchronized (lock) {
      if (queue.isClosed()) {
        return;
      }
      Duration wait = store.settings().watchWait();
      Duration timeout = store.settings().connectionTimeout();
      String p = path;
      if (index > 0) {
        p +=
            (path.indexOf('?') < 0 ? '?' : '&')
                + "index="
                + index
                + "&wait="
                + wait.toSeconds()
                + "s";
        // Consul adds up to wait/16 of jitter before answering.
        timeout = timeout.plus(wait).plus(wait.dividedBy(16));
      }
      requests++;
      CompletableFuture<ConsulHttp.Response> f = store.http().callAsync("GET", p, null, timeout);
      inFlight = f;
      f.whenComplete(this::onAnswer);
    }
  }

  private void onAnswer(ConsulHttp.Response r, Throwable e) {
    if (queue.isClosed()) {
      return;
    }
    if (e != null) {
      onFailure(store.http().mapFailure(e, "GET", path));
      return;
    }
    T event;
    try {
      store.http().expect(r, what, 200, 404);
      event = decoder.apply(r);
    } catch (StoreException | IllegalArgumentException ex) {
      onFailure(ex instanceof StoreException se ? se : new StoreException(ex.getMessage(), ex));
      return;
    }
    if (event != null) {
      queue.offer(event);
    }
    long delayNs;
    synchronized (lock) {
      failingSinceNs = -1;
      backoffMs = 50;
      long got = r.index();
      // Consul's rules: an index that goes backwards restarts the loop; never block on < 1.
      index = got < index ? 0 : Math.max(1, got);
      delayNs = takeToken();
    }
    schedule(delayNs);
  }

  private void onFailure(StoreException cause) {
    if (queue.isClosed() || store.isClosed()) {
      return;
    }
    long delayMs;
    synchronized (lock) {
      long now = System.nanoTime();
      if (failingSinceNs < 0) {
        failingSinceNs = now;
      }
      if (now - failingSinceNs > store.settings().connectionTimeout().toNanos()) {
        queue.fail(
            new StoreException(
                what
                    + " gave up: the Consul agent failed for longer than the connection timeout "
                    + store.settings().connectionTimeout(),
                cause));
        store.unregister(this);
        return;
      }
      delayMs = backoffMs;
      backoffMs = Math.min(1000, backoffMs * 2);
      // A failed request restarts from a fresh read.
      index = 0;
    }
    schedule(TimeUnit.MILLISECONDS.toNanos(delayMs));
  }

  private void schedule(long delayNs) {
    if (delayNs <= 0) {
      issue();
      return;
    }
    try {
      Future<?> f = store.timer().schedule(this::issue, delayNs, TimeUnit.NANOSECONDS);
      synchronized (lock) {
        inFlight = f;
      }
      if (queue.isClosed()) {
        f.cancel(false);
      }
    } catch (RejectedExecutionException closed) {
      // The store closed and took its watches with it.
    }
  }

  /** Token bucket; returns how long to wait before the next request. Holds {@code lock}. */
  private long takeToken() {
    long now = System.nanoTime();
    tokens = Math.min(BURST, tokens + (double) (now - lastRefillNs) / REFILL_NS);
    lastRefillNs = now;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    long wait = (long) ((1 - tokens) * REFILL_NS);
    tokens = 0;
    lastRefillNs = now + wait;
    return wait;
  }

  private void onClose() {
    Future<?> f;
    synchronized (lock) {
      f = inFlight;
      inFlight = null;
    }
    if (f != null) {
      f.cancel(true);
    }
    store.unregister(this);
  }

  /** Turns answers for one key into events: new pairs, and a deletion after a 404. */
  private static final class KeyDecoder implements Function<ConsulHttp.Response, KVPair> {
    private final String key;
    private boolean present;
    private long lastIndex;

    KeyDecoder(String key) {
      this.key = key;
    }

    @Override
    public KVPair apply(ConsulHttp.Response r) {
      if (r.status() == 404) {
        if (!present) {
          return null;
        }
        present = false;
        // The X-Consul-Index of a 404 is the deletion's (Consul keeps a tombstone) or later.
        lastIndex = r.index();
        return new KVPair(key, null, lastIndex);
      }
      for (ConsulEntry e : ConsulJson.entries(r.body(), "watch " + key)) {
        if (e.key().equals(key)) {
          if (present && e.modifyIndex() == lastIndex) {
            return null;
          }
          present = true;
          lastIndex = e.modifyIndex();
          return e.toPair();
        }
      }
      return null;
    }
  }

  /** Turns answers for a prefix into whole lists, sent when the list changed. */
  private static final class TreeDecoder implements Function<ConsulHttp.Response, List<KVPair>> {
    private final String dir;
    private List<KVPair> last;

    TreeDecoder(String dir) {
      this.dir = dir;
    }

    @Override
    public List<KVPair> apply(ConsulHttp.Response r) {
      List<KVPair> now =
          r.status() == 404
              ? List.of()
              : List.copyOf(ConsulStore.visible(r.body(), dir, "watchTree " + dir));
      if (now.equals(last)) {
        return null;
      }
      last = now;
      return now;
    }
  }
}
