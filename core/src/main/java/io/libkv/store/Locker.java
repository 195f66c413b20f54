package io.libkv.store;

import java.time.Duration;

/**
 * A distributed lock on one key, from {@link Store#newLock}. Waiters are served in arrival order. A
 * {@code Locker} holds at most one lock at a time and can lock again after {@link #unlock()}. Its
 * methods may be called from any thread, but not concurrently with each other.
 */
public interface Locker extends AutoCloseable {

  /**
   * Blocks until the lock is held.
   *
   * @return the held lock, with its fencing token
   * @throws InterruptedException if interrupted while waiting (Go's {@code stopCh}); the place in
   *     the queue is given up
   * @throws IllegalStateException if this locker already holds the lock
   * @throws StoreException if the backend fails
   */
  HeldLock lock() throws InterruptedException;

  /**
   * Blocks until the lock is held or {@code timeout} has passed.
   *
   * @throws CannotLockException if the lock was not acquired in time; the place in the queue is
   *     given up
   * @throws InterruptedException if interrupted while waiting
   * @throws IllegalStateException if this locker already holds the lock
   */
  HeldLock lock(Duration timeout) throws InterruptedException;

  /**
   * Releases the lock and stops renewing its lease. Does nothing if the lock is not held (it may
   * have been lost already).
   *
   * @throws StoreException if the backend fails to release it; the lease then expires on its own
   */
  void unlock();

  /**
   * Releases the lock if held, as {@link #unlock()}: a locker fits try-with-resources. The locker
   * may lock again afterwards.
   *
   * @throws StoreException if the backend fails to release it; the lease then expires on its own
   */
  @Override
  default void close() {
    unlock();
  }
}
