package io.libkv.bench;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * What a workload drives: the {@link io.libkv.store.Store} of a backend, or a raw client used as a
 * baseline. Every method may be called from many client threads at once and blocks until the
 * operation is done.
 */
interface Target extends AutoCloseable {

  /** The name shown in results, for example {@code etcd} or {@code etcd-raw}. */
  String name();

  /** Stores {@code value} at {@code key}. */
  void put(String key, byte[] value);

  /** Reads {@code key}; returns whether it was found. */
  boolean get(String key);

  /**
   * Reads {@code key} and writes {@code value} only if it did not change in between.
   *
   * @return {@code true} if written, {@code false} on a conflict (or a key that was missing)
   */
  boolean cas(String key, byte[] value);

  /**
   * Whether {@link #putAsync} pipelines: the backend's store implements {@link
   * io.libkv.store.AsyncStore}.
   */
  default boolean pipelines() {
    return false;
  }

  /**
   * Starts storing {@code value} at {@code key} without waiting; the future completes when the
   * write is acknowledged.
   *
   * @throws UnsupportedOperationException if {@link #pipelines()} is false
   */
  default CompletableFuture<?> putAsync(String key, byte[] value) {
    throw new UnsupportedOperationException(name() + " does not pipeline writes");
  }

  /**
   * Returns the target that client thread {@code client} should call: this one, or a view of it
   * that sends that client's calls to one of several connections. Views are not closed.
   */
  default Target forClient(int client) {
    return this;
  }

  /** Starts watching {@code key}. */
  Subscription watch(String key);

  @Override
  void close();

  /** A watch on one key, read by one thread. */
  interface Subscription extends AutoCloseable {
    /**
     * Returns the value of the next event, or {@code null} if none came within {@code timeout} (or
     * the event was a deletion).
     */
    byte[] next(Duration timeout) throws InterruptedException;

    @Override
    void close();
  }
}
