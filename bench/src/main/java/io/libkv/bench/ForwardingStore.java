package io.libkv.bench;

import io.libkv.store.KVPair;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.Store;
import io.libkv.store.Watch;
import io.libkv.store.WriteOptions;
import java.util.List;

/** A store that forwards every call to another one, except {@link #close()}, which does nothing. */
final class ForwardingStore implements Store {
  private final Store delegate;

  ForwardingStore(Store delegate) {
    this.delegate = delegate;
  }

  /** The store the calls go to. */
  Store delegate() {
    return delegate;
  }

  @Override
  public void put(String key, byte[] value, WriteOptions options) {
    delegate.put(key, value, options);
  }

  @Override
  public KVPair get(String key) {
    return delegate.get(key);
  }

  @Override
  public void delete(String key) {
    delegate.delete(key);
  }

  @Override
  public boolean exists(String key) {
    return delegate.exists(key);
  }

  @Override
  public Watch<KVPair> watch(String key) {
    return delegate.watch(key);
  }

  @Override
  public Watch<KVPair> watch(String key, long afterIndex) {
    return delegate.watch(key, afterIndex);
  }

  @Override
  public Watch<List<KVPair>> watchTree(String directory) {
    return delegate.watchTree(directory);
  }

  @Override
  public Locker newLock(String key, LockOptions options) {
    return delegate.newLock(key, options);
  }

  @Override
  public List<KVPair> list(String directory) {
    return delegate.list(directory);
  }

  @Override
  public void deleteTree(String directory) {
    delegate.deleteTree(directory);
  }

  @Override
  public KVPair atomicPut(String key, byte[] value, KVPair previous, WriteOptions options) {
    return delegate.atomicPut(key, value, previous, options);
  }

  @Override
  public boolean atomicDelete(String key, KVPair previous) {
    return delegate.atomicDelete(key, previous);
  }

  @Override
  public void close() {
    // the wrapped store belongs to someone else
  }
}
