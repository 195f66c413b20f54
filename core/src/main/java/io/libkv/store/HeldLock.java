package io.libkv.store;

import java.util.concurrent.CompletableFuture;

/** A lock that was acquired: its fencing token, and a future that completes when it is lost. */
public interface HeldLock {

  /**
   * A number that grows strictly with each new holder of the lock's key. A resource that remembers
   * the largest token it has seen can refuse a holder that was paused past its lease.
   */
  long fencingToken();

  /**
   * Completes (normally) when the lease behind the lock is gone: expired, revoked, released by
   * {@link Locker#unlock()}, or ended by the store's close. Callers must not complete it.
   */
  CompletableFuture<Void> lost();
}
