package io.libkv.storage.engine;

import io.libkv.store.CannotLockException;
import io.libkv.store.HeldLock;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.StoreException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A lock in etcd's mutex pattern over the engine: lease + waiter key in the lock's internal queue;
 * the waiter with the lowest revision holds the lock; each waiter waits for its predecessor only.
 */
final class EngineLocker implements Locker {
  private final EngineStore store;
  private final String key;
  private final String queuePrefix;
  private final LockOptions options;
  private final byte[] value;
  private volatile Held current;

  EngineLocker(EngineStore store, String key, String queuePrefix, LockOptions options) {
    this.store = store;
    this.key = key;
    this.queuePrefix = queuePrefix;
    this.options = options;
    this.value = options.value();
  }

  @Override
  public HeldLock lock() throws InterruptedException {
    return acquire(-1);
  }

  @Override
  public HeldLock lock(Duration timeout) throws InterruptedException {
    long ns = timeout.toNanos();
    return acquire(Math.max(0, ns));
  }

  private HeldLock acquire(long timeoutNs) throws InterruptedException {
    Held h = current;
    if (h != null && !h.lost.isDone()) {
      throw new IllegalStateException("lock " + key + " is already held by this Locker");
    }
    long deadline = System.nanoTime() + timeoutNs;
    long ttlMs = Math.max(1, options.ttl().toMillis());
    CompletableFuture<CommandResult> enqueued =
        store.submitAsync(new Command.LockEnqueue(queuePrefix, ttlMs));
    CommandResult r;
    try {
      r = enqueued.get();
    } catch (InterruptedException e) {
      // The waiter may still be enqueued: give its place up as soon as it is known.
      enqueued.thenAccept(
          res -> {
            if (res instanceof CommandResult.Enqueued q) {
              store.submitAsync(new Command.LeaseRevoke(q.leaseId()));
            }
          });
      throw e;
    } catch (ExecutionException e) {
      throw new CannotLockException(key, "could not join the queue: " + e.getCause(), e.getCause());
    }
    if (!(r instanceof CommandResult.Enqueued q)) {
      throw new CannotLockException(key, "could not join the queue: " + r);
    }
    h = new Held(q.leaseId(), q.revision(), q.waiterKey(), ttlMs);
    boolean ok = false;
    try {
      store.own(h);
      h.startRenewal();
      h.watchOwnWaiter();
      String predecessor = q.predecessorKey();
      while (predecessor != null) {
        Subscriptions.DeletionWait w = store.awaitDeletion(predecessor, q.revision());
        CompletableFuture<Object> either = store.track(CompletableFuture.anyOf(w.gone, h.lost));
        try {
          if (timeoutNs < 0) {
            either.get();
          } else {
            either.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          }
        } catch (TimeoutException e) {
          throw new CannotLockException(key, "not acquired within " + Duration.ofNanos(timeoutNs));
        } catch (ExecutionException e) {
          throw new CannotLockException(key, "waiting failed: " + e.getCause(), e.getCause());
        } finally {
          store.untrack(either);
          store.cancel(w);
        }
        if (h.lost.isDone()) {
          throw new CannotLockException(key, "lease expired or revoked while waiting");
        }
        predecessor = predecessorOf(h.waiterKey);
      }
      CommandResult put = store.submit(new Command.Put(key, value, h.leaseId, 0));
      if (!put.isOk()) {
        throw new CannotLockException(key, "lease lost before the lock's key was written: " + put);
      }
      ok = true;
      current = h;
      return h;
    } finally {
      if (!ok) {
        h.release();
      }
    }
  }

  /** The waiter just before {@code waiterKey} in the queue, or null when it is first. */
  private String predecessorOf(String waiterKey) {
    List<KvEntry> queue = store.read(v -> v.listPrefix(queuePrefix));
    String pred = null;
    boolean self = false;
    for (KvEntry e : queue) {
      if (e.key().equals(waiterKey)) {
        self = true;
        break;
      }
      pred = e.key();
    }
    if (!self) {
      throw new CannotLockException(key, "this waiter left the queue (lease expired)");
    }
    return pred;
  }

  @Override
  public void unlock() {
    Held h = current;
    current = null;
    if (h != null) {
      h.release();
    }
  }

  /** One acquisition: its lease, waiter key, renewal and lost signal. */
  final class Held implements HeldLock {
    final long leaseId;
    final long token;
    final String waiterKey;
    final long ttlMs;
    final CompletableFuture<Void> lost = new CompletableFuture<>();
    private volatile ScheduledFuture<?> renewal;
    private volatile Subscriptions.DeletionWait ownWaiter;

    Held(long leaseId, long token, String waiterKey, long ttlMs) {
      this.leaseId = leaseId;
      this.token = token;
      this.waiterKey = waiterKey;
      this.ttlMs = ttlMs;
    }

    @Override
    public long fencingToken() {
      return token;
    }

    @Override
    public CompletableFuture<Void> lost() {
      return lost.copy();
    }

    @Override
    public void close() {
      if (current == this) {
        unlock();
      }
    }

    void startRenewal() {
      long period = Math.max(100, ttlMs / 3);
      renewal =
          store.scheduler().scheduleAtFixedRate(this::renew, period, period, TimeUnit.MILLISECONDS);
      if (options.stopRenewal() != null) {
        options.stopRenewal().whenComplete((x, e) -> stopRenewal());
      }
    }

    private void renew() {
      if (lost.isDone() || store.isClosed()) {
        stopRenewal();
        return;
      }
      store
          .submitAsync(new Command.LeaseKeepAlive(leaseId))
          .whenComplete(
              (r, e) -> {
                if (r instanceof CommandResult.LeaseNotFound) {
                  markLostAsync();
                }
              });
    }

    void stopRenewal() {
      ScheduledFuture<?> f = renewal;
      if (f != null) {
        f.cancel(false);
      }
    }

    void watchOwnWaiter() {
      Subscriptions.DeletionWait w = store.awaitDeletion(waiterKey, token);
      ownWaiter = w;
      w.gone.whenComplete((x, e) -> markLostAsync());
    }

    /**
     * Marks the lock lost from the store's renewal thread: callers' {@code lost()} callbacks must
     * never run on the apply or hub thread (a callback that writes would wait for itself).
     */
    void markLostAsync() {
      try {
        store.scheduler().execute(this::markLost);
      } catch (RuntimeException closed) {
        markLost();
      }
    }

    void markLost() {
      stopRenewal();
      Subscriptions.DeletionWait w = ownWaiter;
      if (w != null) {
        store.cancel(w);
      }
      store.disown(this);
      lost.complete(null);
    }

    /** Revokes the lease (deleting the waiter and the lock's key) and marks the lock lost. */
    void release() {
      stopRenewal();
      if (!lost.isDone()) {
        try {
          store.submitUninterruptibly(new Command.LeaseRevoke(leaseId));
        } catch (StoreException e) {
          // The lease then expires on its own; the lock is lost for this holder either way.
        }
      }
      markLost();
    }

    @Override
    public String toString() {
      return "HeldLock[" + key + ", token=" + token + "]";
    }
  }
}
