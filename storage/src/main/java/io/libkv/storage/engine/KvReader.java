package io.libkv.storage.engine;

import java.util.function.Function;

/**
 * The read side of a store: runs a function against one consistent snapshot.
 *
 * <p>{@link KvEngine} implements it with a reused LMDB read transaction. The embedded Raft backend
 * implements it by waiting for a ReadIndex barrier (so the read is linearizable) and then calling
 * its local engine's {@code read}. Thread-safe.
 *
 * <p>A reader with no local engine (a client-only Raft store) answers each {@code read} with one
 * request, served by another process from one snapshot: the function's first data call (see {@link
 * ReadView}) is that request, and {@code revision()}, {@code appliedIndex()} and {@code
 * historyFloor()} then describe the same snapshot without another request (called before any data
 * call, they are the request). Such a reader refuses a second data call with {@link
 * IllegalStateException}, so every read function written for any reader makes one data call at most
 * (composite calls exist for the facts read together), calls the snapshot's accessors after it, and
 * never depends on which process answered.
 */
@FunctionalInterface
public interface KvReader {

  /**
   * Runs {@code fn} against a snapshot and returns what it returns. The view is valid only during
   * the call.
   *
   * @throws io.libkv.store.StoreException if the snapshot cannot be read (for Raft: no leader in
   *     time, as {@link io.libkv.store.NotReachableException})
   */
  <T> T read(Function<ReadView, T> fn);
}
