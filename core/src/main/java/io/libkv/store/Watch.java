package io.libkv.store;

import java.time.Duration;

/**
 * A stream of changes from {@link Store#watch} or {@link Store#watchTree}. Events come in index
 * order; a slow reader may find changes coalesced, but never an older state after a newer one.
 * Reading never slows writers.
 *
 * <p>One thread at a time may read a watch; {@link #close()} may be called from any thread and
 * wakes a blocked reader, which then gets {@code null} (from {@code poll}) or {@link
 * WatchClosedException} (from {@code take}).
 *
 * @param <T> {@link KVPair} for a key, {@code List<KVPair>} for a tree
 */
public interface Watch<T> extends AutoCloseable {

  /**
   * Returns the next event, waiting at most {@code timeout}.
   *
   * @return the event, or {@code null} if none came in time or the watch was closed
   * @throws StoreException if the backend failed for good (its cause says why); it is thrown again
   *     on every later call
   * @throws InterruptedException if the thread was interrupted while waiting
   */
  T poll(Duration timeout) throws InterruptedException;

  /**
   * Returns the next event, waiting as long as needed.
   *
   * @throws WatchClosedException if the watch is closed
   * @throws StoreException if the backend failed for good
   * @throws InterruptedException if the thread was interrupted while waiting
   */
  T take() throws InterruptedException;

  /** Returns whether {@link #close()} was called or the watch failed. */
  boolean isClosed();

  /** Stops the watch and releases what it holds (Go's {@code stopCh}); idempotent. */
  @Override
  void close();
}
