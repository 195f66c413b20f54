package io.libkv.consul;

import io.libkv.store.CannotLockException;
import io.libkv.store.HeldLock;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.NotReachableException;
import io.libkv.store.StoreException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A fair lock on one key, built from Consul sessions and a queue of waiter keys.
 *
 * <p>{@code lock()} creates a session (behavior {@code delete}, TTL {@link #sessionTtl}), renews it
 * in the background, and enqueues by acquiring {@code __libkv/locks/<key>/<session>} with it. The
 * waiter whose queue key has the smallest {@code CreateIndex} takes the lock key itself with a
 * {@code lock} transaction that writes {@link LockOptions#value()}; the others wait with blocking
 * queries on the queue. Unlock destroys the session, which deletes both the lock key and the queue
 * key in one Raft write, waking the next waiter. A waiter or holder that dies leaves when Consul
 * invalidates its session.
 *
 * <p>The fencing token is the {@code ModifyIndex} of the lock key written by the acquiring
 * transaction: a Raft index, so it grows with every new holder. ({@code LockIndex} alone would not
 * do: it counts acquisitions of one key and restarts at 1 when the key is deleted, as unlock does.)
 */
final class ConsulLocker implements Locker {
  private final ConsulStore store;
  private final String key;
  private final LockOptions options;
  private final Duration sessionTtl;
  private final String queueDir;

  /** The deadline of {@link #lock()}: none. */
  private static final long NO_DEADLINE = Long.MIN_VALUE;

  private Held held;
  private volatile String waitingSession;

  ConsulLocker(ConsulStore store, String key, LockOptions options) {
    this.store = store;
    this.key = key;
    this.options = options;
    this.sessionTtl = sessionTtl(options.ttl());
    this.queueDir = ConsulStore.LOCK_QUEUE_ROOT + key + "/";
  }

  /**
   * The session TTL for a lock TTL: half of it (Consul invalidates up to twice the session TTL
   * after the last renewal), but at least Consul's minimum of 10 s. So a lock whose renewal stops
   * is lost within {@code max(ttl, 20 s)} plus Consul's reaping delay.
   */
  static Duration sessionTtl(Duration lockTtl) {
    Duration half = Duration.ofMillis((lockTtl.toMillis() + 1) / 2);
    Duration t =
        half.compareTo(ConsulStore.MIN_SESSION_TTL) < 0 ? ConsulStore.MIN_SESSION_TTL : half;
    return t.compareTo(ConsulStore.MAX_SESSION_TTL) > 0 ? ConsulStore.MAX_SESSION_TTL : t;
  }

  @Override
  public HeldLock lock() throws InterruptedException {
    return acquire(NO_DEADLINE);
  }

  @Override
  public HeldLock lock(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
    return acquire(deadline == NO_DEADLINE ? deadline + 1 : deadline);
  }

  @Override
  public void unlock() {
    Held h;
    synchronized (this) {
      h = held;
      held = null;
    }
    if (h == null || h.lost.isDone()) {
      if (h != null) {
        h.end();
      }
      return;
    }
    h.end();
    store.unregister(this);
    // Destroying the session deletes the lock key and the queue key (behavior "delete").
    store.destroySession(h.session);
  }

  /** The store is closing: release the held lock and leave the queue if waiting. */
  void closeFromStore() {
    Held h;
    synchronized (this) {
      h = held;
      held = null;
    }
    if (h != null) {
      h.end();
      store.destroySessionQuietly(h.session);
    }
    String waiting = waitingSession;
    if (waiting != null) {
      // The waiting thread fails once close() cancels its request; leave the queue for it now,
      // before the HTTP side closes.
      store.destroySessionQuietly(waiting);
    }
    store.unregister(this);
  }

  private HeldLock acquire(long deadlineNs) throws InterruptedException {
    synchronized (this) {
      if (held != null && !held.lost.isDone()) {
        throw new IllegalStateException("this Locker already holds the lock on " + key);
      }
      held = null;
    }
    store.checkOpen();
    String session = store.createSession("libkv-lock " + key, sessionTtl, "delete");
    Held h = new Held(session);
    waitingSession = session;
    store.register(this);
    boolean ok = false;
    try {
      h.startRenewal();
      String me = queueDir + session;
      ConsulJson.Txn enqueue = new ConsulJson.Txn().kv("lock", me, new byte[0], 0, 0, session);
      ConsulHttp.Response q = store.txn(enqueue, "enqueue for lock " + key);
      if (q.status() != 200) {
        throw new CannotLockException(
            key, "could not enqueue: " + ConsulJson.txnResult(q.body(), "enqueue").errors());
      }
      long queueIndex = 0;
      while (true) {
        ConsulHttp.Response r = get(ConsulPaths.kv(queueDir) + "?recurse", queueIndex, deadlineNs);
        List<ConsulEntry> waiters = waiters(r);
        if (waiters.stream().noneMatch(e -> e.key().equals(me))) {
          throw new CannotLockException(key, "the session was invalidated while waiting");
        }
        if (waiters.get(0).key().equals(me)) {
          Long token = tryTake(session, deadlineNs);
          if (token != null) {
            h.token = token;
            synchronized (this) {
              held = h;
            }
            h.startMonitor();
            ok = true;
            return h;
          }
          queueIndex = 0; // re-read the queue after waiting on the key
        } else {
          long got = r.index();
          queueIndex = got < queueIndex ? 0 : Math.max(1, got);
        }
      }
    } finally {
      waitingSession = null;
      if (!ok) {
        h.end();
        store.unregister(this);
        store.destroySessionQuietly(session);
      }
    }
  }

  /**
   * First in the queue: takes the lock key, or waits (one blocking query) while another session
   * holds it, e.g. a holder from outside this queue, or sleeps out Consul's lock-delay. Returns the
   * fencing token, or {@code null} to look at the queue again.
   */
  private Long tryTake(String session, long deadlineNs) throws InterruptedException {
    ConsulJson.Txn t = new ConsulJson.Txn().kv("lock", key, options.value(), 0, 0, session);
    ConsulHttp.Response r = store.txn(t, "lock " + key);
    if (r.status() == 200) {
      ConsulEntry e = ConsulJson.txnResult(r.body(), "lock " + key).last(key);
      if (e == null) {
        throw new StoreException("Consul's txn answer for lock " + key + " has no entry for it");
      }
      return e.modifyIndex();
    }
    ConsulEntry cur = store.entry(key);
    if (cur != null && cur.session() != null && !cur.heldBy(session)) {
      get(ConsulPaths.kv(key), Math.max(1, cur.modifyIndex()), deadlineNs);
    } else {
      // Not held: Consul refuses the acquisition during the lock-delay of the previous session.
      long parkNs = Math.max(store.settings().lockDelay().toNanos(), 5_000_000L);
      LockSupport.parkNanos(parkNs);
      if (Thread.interrupted()) {
        throw new InterruptedException("waiting for lock " + key);
      }
    }
    return null;
  }

  private long remaining(long deadlineNs) {
    if (deadlineNs == NO_DEADLINE) {
      return Long.MAX_VALUE;
    }
    long left = deadlineNs - System.nanoTime();
    if (left <= 0) {
      throw new CannotLockException(key, "timed out waiting in the queue");
    }
    return left;
  }

  /**
   * A GET that blocks on {@code index} until the deadline at most (and the configured wait). An
   * agent that does not answer by the deadline makes it a {@link CannotLockException}.
   */
  private ConsulHttp.Response get(String path, long index, long deadlineNs)
      throws InterruptedException {
    long waitNs = remaining(deadlineNs);
    Duration timeout = store.settings().connectionTimeout();
    String p = path;
    if (index > 0) {
      long waitMs =
          Math.max(
              1,
              Math.min(
                  store.settings().watchWait().toMillis(), TimeUnit.NANOSECONDS.toMillis(waitNs)));
      p += (path.indexOf('?') < 0 ? '?' : '&') + "index=" + index + "&wait=" + waitMs + "ms";
      timeout = timeout.plus(Duration.ofMillis(waitMs + waitMs / 16));
    }
    ConsulHttp.Response r;
    try {
      r = store.http().call("GET", p, null, timeout);
    } catch (NotReachableException e) {
      if (deadlineNs != NO_DEADLINE && System.nanoTime() - deadlineNs >= 0) {
        throw new CannotLockException(key, "timed out waiting in the queue", e);
      }
      throw e;
    }
    return store.http().expect(r, "lock " + key, 200, 404);
  }

  /** The live waiters, direct children of the queue directory, in arrival order. */
  private List<ConsulEntry> waiters(ConsulHttp.Response r) {
    List<ConsulEntry> out = new ArrayList<>();
    if (r.status() == 200) {
      for (ConsulEntry e : ConsulJson.entries(r.body(), "lock queue " + key)) {
        String rest = e.key().substring(Math.min(e.key().length(), queueDir.length()));
        if (e.key().startsWith(queueDir)
            && !rest.isEmpty()
            && rest.indexOf('/') < 0
            && e.session() != null) {
          out.add(e);
        }
      }
    }
    out.sort(Comparator.comparingLong(ConsulEntry::createIndex).thenComparing(ConsulEntry::key));
    return out;
  }

  /** A held lock: its session, renewal and the watch that notices when it is lost. */
  private final class Held implements HeldLock {
    final String session;
    final CompletableFuture<Void> lost = new CompletableFuture<>();
    volatile long token;
    private final Object guard = new Object();
    private Future<?> renewal;
    private Future<?> monitor;
    private long lastRenewedNs = System.nanoTime();
    private boolean renewing = true;

    Held(String session) {
      this.session = session;
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
      synchronized (ConsulLocker.this) {
        if (held != this) {
          return;
        }
      }
      unlock();
    }

    void startRenewal() {
      long periodMs = Math.max(1, sessionTtl.toMillis() / 3);
      synchronized (guard) {
        renewal =
            store
                .timer()
                .scheduleAtFixedRate(this::renew, periodMs, periodMs, TimeUnit.MILLISECONDS);
      }
      if (options.stopRenewal() != null) {
        options.stopRenewal().whenComplete((x, e) -> stopRenewing());
      }
    }

    private void stopRenewing() {
      synchronized (guard) {
        renewing = false;
        if (renewal != null) {
          renewal.cancel(false);
        }
      }
    }

    private void renew() {
      synchronized (guard) {
        if (!renewing || lost.isDone()) {
          return;
        }
      }
      store
          .http()
          .callAsync("PUT", "session/renew/" + session, null, store.settings().connectionTimeout())
          .whenComplete(
              (r, e) -> {
                long now = System.nanoTime();
                if (e == null && r.status() == 200) {
                  synchronized (guard) {
                    lastRenewedNs = now;
                  }
                } else if (e == null && r.status() == 404) {
                  end(); // Consul says the session is gone
                } else {
                  boolean expired;
                  synchronized (guard) {
                    // Consul may invalidate a session once its TTL has passed unrenewed, so the
                    // lock is lost from then on; the destroy makes sure, if the agent answers.
                    expired = now - lastRenewedNs >= sessionTtl.toNanos();
                  }
                  if (expired) {
                    endAndRelease();
                  }
                }
              });
    }

    /** Watches the lock key: lost when it is deleted or held by another session. */
    void startMonitor() {
      monitorFrom(token);
    }

    private void monitorFrom(long index) {
      synchronized (guard) {
        if (lost.isDone()) {
          return;
        }
        Duration wait = store.settings().watchWait();
        String p =
            ConsulPaths.kv(key)
                + (index > 0 ? "?index=" + index + "&wait=" + wait.toSeconds() + "s" : "");
        Duration timeout = store.settings().connectionTimeout().plus(wait).plus(wait.dividedBy(16));
        CompletableFuture<ConsulHttp.Response> f = store.http().callAsync("GET", p, null, timeout);
        monitor = f;
        f.whenComplete(
            (r, e) -> {
              if (lost.isDone()) {
                return;
              }
              if (e != null || (r.status() != 200 && r.status() != 404)) {
                retryMonitor();
                return;
              }
              ConsulEntry cur = null;
              if (r.status() == 200) {
                for (ConsulEntry x : ConsulJson.entries(r.body(), "lock " + key)) {
                  if (x.key().equals(key)) {
                    cur = x;
                  }
                }
              }
              if (cur == null || !cur.heldBy(session)) {
                // Deleted or taken over: the session would still hold our place in the queue.
                endAndRelease();
                return;
              }
              long got = r.index();
              monitorFrom(got < index ? 0 : Math.max(1, got));
            });
      }
    }

    private void retryMonitor() {
      try {
        Future<?> f = store.timer().schedule(() -> monitorFrom(0), 200, TimeUnit.MILLISECONDS);
        synchronized (guard) {
          monitor = f;
        }
      } catch (RejectedExecutionException closed) {
        end();
      }
    }

    /** Ends the lock and destroys its session without waiting, so the queue moves on. */
    void endAndRelease() {
      end();
      store
          .http()
          .callAsync(
              "PUT", "session/destroy/" + session, null, store.settings().connectionTimeout());
    }

    /** Stops renewal and monitoring, and completes {@link #lost()}. */
    void end() {
      Future<?> r;
      Future<?> m;
      synchronized (guard) {
        renewing = false;
        r = renewal;
        m = monitor;
      }
      if (r != null) {
        r.cancel(false);
      }
      if (m != null) {
        m.cancel(true);
      }
      lost.complete(null);
    }
  }
}
