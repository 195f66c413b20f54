package io.libkv.store;

import java.util.List;

/**
 * A key-value store: the contract every backend of libkv-java meets (Go libkv's {@code Store}).
 *
 * <p><b>Keys</b> are {@code /}-separated UTF-8 paths; a leading or trailing {@code /} is dropped,
 * so {@code a/b/} and {@code /a/b} name the key {@code a/b}. Empty keys, keys with a NUL character
 * and keys over {@link io.libkv.spi.Keys#MAX_KEY_BYTES} bytes are refused with {@link
 * IllegalArgumentException}, as are values over the configured limit ({@link
 * Config#maxValueBytes()}, 1 MiB by default).
 *
 * <p><b>Indices.</b> Every stored pair has a {@link KVPair#lastIndex()} greater than 0, strictly
 * greater after every successful write to that key, and comparable across keys.
 *
 * <p><b>Threads.</b> A store may be used from many threads at once. Every method may block on I/O.
 * Errors are unchecked and rooted in {@link StoreException}; a backend that cannot reach its
 * servers throws {@link NotReachableException}.
 */
public interface Store extends AutoCloseable {

  /**
   * Stores {@code value} at {@code key}, creating missing parents where the backend needs them.
   *
   * @param options TTL and directory flag; {@code null} for none
   * @throws IllegalArgumentException if the key or value breaks a limit
   */
  void put(String key, byte[] value, WriteOptions options);

  /**
   * Returns the pair stored at {@code key}.
   *
   * @throws KeyNotFoundException if nothing is stored there
   */
  KVPair get(String key);

  /**
   * Deletes {@code key} (not its descendants).
   *
   * @throws KeyNotFoundException if nothing is stored there
   */
  void delete(String key);

  /** Returns whether a pair is stored at {@code key}. */
  boolean exists(String key);

  /**
   * Watches one key. The first event is the current pair if the key exists; a missing key is not an
   * error, the watch waits for it. Then one event per change in index order; a deletion is a pair
   * with a {@code null} value and the deleting index.
   */
  Watch<KVPair> watch(String key);

  /**
   * Watches one key from a known index: delivers every change with an index greater than {@code
   * afterIndex}, none skipped, in index order, then goes on like {@link #watch(String)}.
   *
   * @throws StoreException (a {@link CallNotSupportedException} or a backend error naming the
   *     oldest index it still has) if the history no longer reaches back to {@code afterIndex}
   */
  Watch<KVPair> watch(String key, long afterIndex);

  /**
   * Watches a directory. The first event is the current {@link #list} of it (possibly empty); after
   * each change under it, the whole list again.
   */
  Watch<List<KVPair>> watchTree(String directory);

  /**
   * Returns a lock on {@code key}; nothing is acquired until {@link Locker#lock()}.
   *
   * @param options value, TTL and renewal; {@code null} for the defaults
   */
  Locker newLock(String key, LockOptions options);

  /**
   * Returns every descendant of {@code directory}, recursively, sorted by key, not the directory
   * itself. Internal keys (lock queues, leases) never show.
   *
   * @return the pairs; empty if {@code directory} exists but has no children
   * @throws KeyNotFoundException if nothing is stored at or under {@code directory}
   */
  List<KVPair> list(String directory);

  /** Deletes {@code directory} and every descendant. Does nothing if there is nothing to delete. */
  void deleteTree(String directory);

  /**
   * Writes {@code value} only if the key is as the caller last saw it.
   *
   * @param previous {@code null} to create the key; otherwise the pair last read, whose {@code
   *     lastIndex} must still be the stored one
   * @param options TTL and directory flag; {@code null} for none
   * @return the new pair, with the index of this write
   * @throws KeyExistsException if {@code previous} is {@code null} and the key exists
   * @throws KeyModifiedException if the stored index differs from {@code previous.lastIndex()}
   * @throws KeyNotFoundException if {@code previous} is given and the key is gone
   */
  KVPair atomicPut(String key, byte[] value, KVPair previous, WriteOptions options);

  /**
   * Deletes the key only if it is as the caller last saw it.
   *
   * @return {@code true} on success
   * @throws PreviousNotSpecifiedException if {@code previous} is {@code null}
   * @throws KeyModifiedException if the stored index differs from {@code previous.lastIndex()}
   * @throws KeyNotFoundException if the key is gone
   */
  boolean atomicDelete(String key, KVPair previous);

  /**
   * Releases every resource this store owns: threads, sockets, file handles, watches (which then
   * report themselves closed) and leases (whose locks are released). Idempotent.
   */
  @Override
  void close();
}
