/**
 * {@code Backend.LMDB}: a local file store over the {@link io.libkv.storage.engine} layers. The
 * only public type is {@link io.libkv.storage.lmdb.LmdbStoreProvider}, found through {@link
 * java.util.ServiceLoader}.
 *
 * <p>Threads: per data directory, one apply thread (group commit), one watch hub thread and one
 * lease reaper thread, shared by every store opened on it and stopped when the last one closes; per
 * store, one lease renewal thread once it takes a lock. Errors: invalid configuration gives {@link
 * IllegalArgumentException}; LMDB failures give {@link io.libkv.store.StoreException}.
 */
package io.libkv.storage.lmdb;
