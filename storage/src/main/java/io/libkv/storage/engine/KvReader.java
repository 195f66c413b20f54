package io.libkv.storage.engine;

import java.util.function.Function;

/**
 * The read side of a store: runs a function against one consistent snapshot.
 *
 * <p>{@link KvEngine} implements it with a reused LMDB read transaction. The embedded Raft backend
 * implements it by waiting for a ReadIndex barrier (so the read is linearizable) and then calling
 * its local engine's {@code read}. Thread-safe.
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
