package io.libkv.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.libkv.store.NotReachableException;
import io.libkv.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One etcd watch (a key or a prefix) that survives broken connections without losing an event.
 *
 * <p>jetcd resumes a broken watch by itself, but from a revision that may skip events delivered
 * neither before the break nor after it; so this class closes jetcd's watcher on every error and
 * opens a new one from the revision after the last event it delivered. If no new watcher is
 * confirmed by the server (its "created" notice) within the connection timeout, the sink gets a
 * {@link NotReachableException}; a compacted history or a refused request fails it at once.
 *
 * <p>Threads: jetcd calls the listener on its own threads while holding its watch lock; this class
 * takes its own monitor inside that, and never calls jetcd while holding its monitor.
 */
final class EtcdWatchStream {
  private static final long RESUME_DELAY_MS = 500;

  /** Receives the events of the stream, in revision order, or its failure (once). */
  interface Sink {
    void onEvents(List<WatchEvent> events);

    void onFailure(StoreException failure);
  }

  private final EtcdStore store;
  private final ByteSequence key;
  private final boolean prefix;
  private final String what;
  private Sink sink; // set once by start, before the first event

  private long nextRevision;
  private long generation;
  private Watch.Watcher current;
  private boolean closed;
  private long failingSinceNs = -1;
  private Throwable lastError;

  EtcdWatchStream(
      EtcdStore store, ByteSequence key, boolean prefix, long fromRevision, String what) {
    this.store = store;
    this.key = key;
    this.prefix = prefix;
    this.nextRevision = fromRevision;
    this.what = what;
  }

  /** Starts watching, handing events and the final failure to {@code sink}. Called once. */
  void start(Sink sink) {
    synchronized (this) {
      this.sink = Objects.requireNonNull(sink, "sink");
    }
    open();
  }

  private void open() {
    long gen;
    WatchOption option;
    synchronized (this) {
      if (closed) {
        return;
      }
      gen = ++generation;
      option =
          WatchOption.builder()
              .withRevision(nextRevision)
              .isPrefix(prefix)
              .withCreateNotify(true)
              // A member that lost its quorum ends the stream instead of going silent.
              .withRequireLeader(true)
              .build();
    }
    Watch.Watcher w;
    try {
      w =
          store
              .client()
              .getWatchClient()
              .watch(
                  key,
                  option,
                  Watch.listener(
                      r -> onNext(gen, r), t -> onError(gen, t), () -> onCompleted(gen)));
    } catch (RuntimeException e) {
      fail(gen, store.errors().map(e, what));
      return;
    }
    boolean stale;
    synchronized (this) {
      stale = closed || gen != generation;
      if (!stale) {
        current = w;
      }
    }
    if (stale) {
      w.close();
    }
  }

  private void onNext(long gen, WatchResponse response) {
    synchronized (this) {
      if (closed || gen != generation) {
        return;
      }
      if (response.isCreatedNotify()) {
        failingSinceNs = -1;
        lastError = null;
        return;
      }
      List<WatchEvent> fresh = new ArrayList<>(response.getEvents().size());
      for (WatchEvent e : response.getEvents()) {
        long rev = e.getKeyValue().getModRevision();
        if (rev >= nextRevision) {
          fresh.add(e);
        }
      }
      if (fresh.isEmpty()) {
        return;
      }
      nextRevision = fresh.get(fresh.size() - 1).getKeyValue().getModRevision() + 1;
      sink.onEvents(fresh);
    }
  }

  private void onError(long gen, Throwable error) {
    Watch.Watcher broken;
    long since;
    synchronized (this) {
      if (closed || gen != generation) {
        return;
      }
      Throwable t =
          error instanceof CompletionException && error.getCause() != null
              ? error.getCause()
              : error;
      if (!EtcdErrors.isTransient(t)) {
        failLocked(store.errors().map(t, what));
        broken = current;
        current = null;
        since = -2;
      } else {
        lastError = t;
        if (failingSinceNs < 0) {
          failingSinceNs = store.clock().nanoTime();
        }
        since = failingSinceNs;
        broken = current;
        current = null;
        generation++;
      }
    }
    if (broken != null) {
      broken.close();
    }
    if (since == -2) {
      return;
    }
    try {
      store.scheduler().schedule(this::open, RESUME_DELAY_MS, TimeUnit.MILLISECONDS);
      long waitNs = since + store.errors().timeout().toNanos() - store.clock().nanoTime();
      store
          .scheduler()
          .schedule(() -> checkDeadline(since), Math.max(waitNs, 0), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // The store is closing; close() ends this watch.
    }
  }

  private void checkDeadline(long since) {
    synchronized (this) {
      if (closed || failingSinceNs != since) {
        return;
      }
      StoreException cause = store.errors().map(lastError, what);
      failLocked(
          cause instanceof NotReachableException
              ? cause
              : new NotReachableException(
                  store.errors().endpoints(),
                  what + " could not be resumed within " + store.errors().timeout(),
                  cause));
    }
    closeCurrent();
  }

  private void onCompleted(long gen) {
    synchronized (this) {
      if (closed || gen != generation) {
        return;
      }
      failLocked(
          lastError != null
              ? store.errors().map(lastError, what)
              : new StoreException("etcd ended " + what + " without a reason"));
    }
  }

  private void fail(long gen, StoreException failure) {
    synchronized (this) {
      if (closed || gen != generation) {
        return;
      }
      failLocked(failure);
    }
    closeCurrent();
  }

  private void failLocked(StoreException failure) {
    closed = true;
    generation++;
    sink.onFailure(failure);
  }

  /** Stops the stream; idempotent. */
  void close() {
    synchronized (this) {
      closed = true;
      generation++;
    }
    closeCurrent();
  }

  private void closeCurrent() {
    Watch.Watcher w;
    synchronized (this) {
      w = current;
      current = null;
    }
    if (w != null) {
      w.close();
    }
  }
}
