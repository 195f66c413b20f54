package io.libkv.store;

import java.util.concurrent.CompletableFuture;

/**
 * A lock that was acquired: its fencing token, and a future that completes when it is lost. Closing
 * it releases the lock, so a holding fits try-with-resources:
 *
 * <pre>{@code
 * try (HeldLock held = store.newLock("locks/job", null).lock()) {
 *   resource.write(data, held.fencingToken());
 * }
 * }</pre>
 */
public interface HeldLock extends AutoCloseable {

  /**
   * A number that grows strictly with each new holder of the lock's key. A resource that remembers
   * the largest token it has seen can refuse a holder that was paused past its lease.
   */
  long fencingToken();

  /**
   * Completes (normally) when the lease behind the lock is gone: expired, revoked, released by
   * {@link Locker#unlock()} or {@link #close()}, or ended by the store's close. Each call returns a
   * new view of that signal: completing or cancelling it changes nothing for the lock or for other
   * callers.
   */
  CompletableFuture<Void> lost();

  /**
   * Releases the lock, as {@link Locker#unlock()} does, if this is still its locker's current
   * holding; otherwise (already released, lost, or the locker has locked again since) does nothing.
   * Idempotent.
   *
   * @throws StoreException if the backend fails to release it; the lease then expires on its own
   */
  @Override
  void close();
}
