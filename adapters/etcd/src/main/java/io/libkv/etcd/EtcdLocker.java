package io.libkv.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.libkv.store.CannotLockException;
import io.libkv.store.HeldLock;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.NotReachableException;
import io.libkv.store.StoreException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * etcd's mutex recipe (as in its {@code concurrency} package): each attempt grants a lease and puts
 * a waiter key {@code INTERNAL_PREFIX + key + NUL + leaseId} on it; waiters are ordered by the
 * create revision of their keys, and each waits only for the deletion of its predecessor (no
 * thundering herd). The head of the queue writes {@link LockOptions#value()} at the lock's key,
 * attached to the same lease, so revoking or losing the lease releases both at once. The fencing
 * token is the create revision of the waiter key.
 */
final class EtcdLocker implements Locker {
  private static final ByteSequence EMPTY = ByteSequence.EMPTY;

  private final EtcdStore store;
  private final KV kv;
  private final String key;
  private final LockOptions options;
  private final String queue;
  private Held held;

  EtcdLocker(EtcdStore store, String key, LockOptions options) {
    this.store = store;
    this.kv = store.client().getKVClient();
    this.key = key;
    this.options = options;
    this.queue = EtcdStore.INTERNAL_PREFIX + key + '\u0000';
  }

  @Override
  public HeldLock lock() throws InterruptedException {
    return acquireInterruptibly(-1, null);
  }

  @Override
  public HeldLock lock(Duration timeout) throws InterruptedException {
    if (timeout == null || timeout.isNegative()) {
      throw new IllegalArgumentException("lock timeout must not be negative, was " + timeout);
    }
    return acquireInterruptibly(store.clock().nanoTime() + timeout.toNanos(), timeout);
  }

  private HeldLock acquireInterruptibly(long deadlineNs, Duration timeout)
      throws InterruptedException {
    try {
      return acquire(deadlineNs, timeout);
    } catch (StoreException e) {
      // Interrupted inside an etcd call: report it as lock() documents, as an interruption.
      if (e.getCause() instanceof InterruptedException && Thread.interrupted()) {
        InterruptedException ie = new InterruptedException("lock " + key + " interrupted");
        ie.initCause(e);
        throw ie;
      }
      throw e;
    }
  }

  private HeldLock acquire(long deadlineNs, Duration timeout) throws InterruptedException {
    synchronized (this) {
      if (held != null && !held.session.lost().isDone()) {
        throw new IllegalStateException("this Locker already holds the lock on " + key);
      }
      held = null;
    }
    String what = "lock " + key;
    long startNs = store.clock().nanoTime();
    long ttlSeconds = EtcdStore.leaseSeconds(options.ttl());
    long leaseId = store.grantLease(options.ttl(), what);
    LeaseSession session =
        new LeaseSession(store, leaseId, ttlSeconds, startNs, options.stopRenewal());
    store.register(session);
    boolean acquired = false;
    try {
      ByteSequence mine = EtcdStore.bytes(queue + Long.toHexString(leaseId));
      long myRev =
          store
              .errors()
              .await(kv.put(mine, EMPTY, PutOption.builder().withLeaseId(leaseId).build()), what)
              .getHeader()
              .getRevision();
      GetOption predecessor =
          GetOption.builder()
              .isPrefix(true)
              .withMaxCreateRevision(myRev - 1)
              .withSortField(GetOption.SortTarget.CREATE)
              .withSortOrder(GetOption.SortOrder.DESCEND)
              .withLimit(1)
              .withKeysOnly(true)
              .build();
      while (true) {
        GetResponse g = store.errors().await(kv.get(EtcdStore.bytes(queue), predecessor), what);
        if (g.getKvs().isEmpty()) {
          break;
        }
        awaitDeletion(
            g.getKvs().get(0).getKey(),
            g.getHeader().getRevision() + 1,
            session,
            deadlineNs,
            timeout);
      }
      TxnResponse t =
          store
              .errors()
              .await(
                  kv.txn()
                      .If(new Cmp(mine, Cmp.Op.EQUAL, CmpTarget.createRevision(myRev)))
                      .Then(
                          Op.put(
                              EtcdStore.bytes(key),
                              ByteSequence.from(options.value()),
                              PutOption.builder().withLeaseId(leaseId).build()))
                      .commit(),
                  what);
      if (!t.isSucceeded()) {
        throw new CannotLockException(key, "the lease expired while waiting in the queue");
      }
      Held h = new Held(myRev, session);
      synchronized (this) {
        held = h;
      }
      acquired = true;
      return h;
    } finally {
      if (!acquired) {
        try {
          session.release(store.errors().timeout());
        } catch (StoreException e) {
          // Giving up the place in the queue is best effort: the lease expires on its own.
        }
      }
    }
  }

  /** Waits until {@code pred} is deleted, the lease is lost, or the deadline passes. */
  private void awaitDeletion(
      ByteSequence pred, long fromRevision, LeaseSession session, long deadlineNs, Duration timeout)
      throws InterruptedException {
    CompletableFuture<Void> gone = new CompletableFuture<>();
    Watch.Watcher w =
        store
            .client()
            .getWatchClient()
            .watch(
                pred,
                WatchOption.builder().withRevision(fromRevision).withNoPut(true).build(),
                Watch.listener(
                    r -> {
                      for (WatchEvent e : r.getEvents()) {
                        if (e.getEventType() == WatchEvent.EventType.DELETE) {
                          gone.complete(null);
                        }
                      }
                    },
                    gone::completeExceptionally));
    try {
      CompletableFuture<Object> any = CompletableFuture.anyOf(gone, session.lost());
      if (deadlineNs < 0) {
        any.get();
      } else {
        any.get(Math.max(0, deadlineNs - store.clock().nanoTime()), TimeUnit.NANOSECONDS);
      }
      if (session.lost().isDone()) {
        throw new CannotLockException(key, "the lease was lost while waiting in the queue");
      }
    } catch (TimeoutException e) {
      throw new CannotLockException(key, "not acquired within " + timeout);
    } catch (ExecutionException e) {
      StoreException mapped = store.errors().map(e.getCause(), "lock " + key);
      if (!(mapped instanceof NotReachableException)) {
        throw mapped;
      }
      // A broken watch: the caller looks at the queue again, which fails if etcd stays away.
    } finally {
      w.close();
    }
  }

  @Override
  public void unlock() {
    Held h;
    synchronized (this) {
      h = held;
      held = null;
    }
    if (h == null || h.session.lost().isDone()) {
      return;
    }
    h.session.release(store.errors().timeout());
  }

  private final class Held implements HeldLock {
    private final long token;
    private final LeaseSession session;

    Held(long token, LeaseSession session) {
      this.token = token;
      this.session = session;
    }

    @Override
    public long fencingToken() {
      return token;
    }

    @Override
    public CompletableFuture<Void> lost() {
      return session.lost().copy();
    }

    @Override
    public void close() {
      synchronized (EtcdLocker.this) {
        if (held != this) {
          return;
        }
      }
      unlock();
    }
  }
}
