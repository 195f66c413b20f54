package io.libkv.micrometer;

import io.libkv.store.KVPair;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.Store;
import io.libkv.store.Watch;
import io.libkv.store.WriteOptions;
import java.util.List;
import java.util.Objects;

/** Times every call of a {@link Store} and hands it on unchanged. */
final class TimedStore implements Store {
  private final Store delegate;
  private final CallTimers timers;

  TimedStore(Store delegate, CallTimers timers) {
    this.delegate = Objects.requireNonNull(delegate, "store");
    this.timers = timers;
  }

  @Override
  public void put(String key, byte[] value, WriteOptions options) {
    long t = timers.start();
    try {
      delegate.put(key, value, options);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.PUT, t, e);
      throw e;
    }
    timers.success(Operation.PUT, t);
  }

  @Override
  public KVPair get(String key) {
    long t = timers.start();
    KVPair r;
    try {
      r = delegate.get(key);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.GET, t, e);
      throw e;
    }
    timers.success(Operation.GET, t);
    return r;
  }

  @Override
  public void delete(String key) {
    long t = timers.start();
    try {
      delegate.delete(key);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.DELETE, t, e);
      throw e;
    }
    timers.success(Operation.DELETE, t);
  }

  @Override
  public boolean exists(String key) {
    long t = timers.start();
    boolean r;
    try {
      r = delegate.exists(key);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.EXISTS, t, e);
      throw e;
    }
    timers.success(Operation.EXISTS, t);
    return r;
  }

  @Override
  public Watch<KVPair> watch(String key) {
    long t = timers.start();
    Watch<KVPair> r;
    try {
      r = delegate.watch(key);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.WATCH, t, e);
      throw e;
    }
    timers.success(Operation.WATCH, t);
    return r;
  }

  @Override
  public Watch<KVPair> watch(String key, long afterIndex) {
    long t = timers.start();
    Watch<KVPair> r;
    try {
      r = delegate.watch(key, afterIndex);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.WATCH, t, e);
      throw e;
    }
    timers.success(Operation.WATCH, t);
    return r;
  }

  @Override
  public Watch<List<KVPair>> watchTree(String directory) {
    long t = timers.start();
    Watch<List<KVPair>> r;
    try {
      r = delegate.watchTree(directory);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.WATCH_TREE, t, e);
      throw e;
    }
    timers.success(Operation.WATCH_TREE, t);
    return r;
  }

  @Override
  public Locker newLock(String key, LockOptions options) {
    long t = timers.start();
    Locker r;
    try {
      r = delegate.newLock(key, options);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.NEW_LOCK, t, e);
      throw e;
    }
    timers.success(Operation.NEW_LOCK, t);
    return new TimedLocker(r, timers);
  }

  @Override
  public List<KVPair> list(String directory) {
    long t = timers.start();
    List<KVPair> r;
    try {
      r = delegate.list(directory);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.LIST, t, e);
      throw e;
    }
    timers.success(Operation.LIST, t);
    return r;
  }

  @Override
  public void deleteTree(String directory) {
    long t = timers.start();
    try {
      delegate.deleteTree(directory);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.DELETE_TREE, t, e);
      throw e;
    }
    timers.success(Operation.DELETE_TREE, t);
  }

  @Override
  public KVPair atomicPut(String key, byte[] value, KVPair previous, WriteOptions options) {
    long t = timers.start();
    KVPair r;
    try {
      r = delegate.atomicPut(key, value, previous, options);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.ATOMIC_PUT, t, e);
      throw e;
    }
    timers.success(Operation.ATOMIC_PUT, t);
    return r;
  }

  @Override
  public boolean atomicDelete(String key, KVPair previous) {
    long t = timers.start();
    boolean r;
    try {
      r = delegate.atomicDelete(key, previous);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.ATOMIC_DELETE, t, e);
      throw e;
    }
    timers.success(Operation.ATOMIC_DELETE, t);
    return r;
  }

  @Override
  public void close() {
    long t = timers.start();
    try {
      delegate.close();
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.CLOSE, t, e);
      throw e;
    }
    timers.success(Operation.CLOSE, t);
  }

  @Override
  public String toString() {
    return "Metered[" + delegate + "]";
  }
}
