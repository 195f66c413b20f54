package io.libkv.micrometer;

import io.libkv.store.AsyncStore;
import io.libkv.store.KVPair;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.Watch;
import io.libkv.store.WriteOptions;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Times every call of an {@link AsyncStore}: the blocking ones as {@link TimedStore} does, the
 * pipelined ones from the call to the completion of their future. The caller gets the delegate's
 * own future (so cancelling or completing it acts on the delegate's); the time is recorded by a
 * callback on the thread that completes it.
 */
final class TimedAsyncStore implements AsyncStore {
  private final AsyncStore delegate;
  private final CallTimers timers;
  private final TimedStore blocking;

  TimedAsyncStore(AsyncStore delegate, CallTimers timers) {
    this.delegate = Objects.requireNonNull(delegate, "store");
    this.timers = timers;
    this.blocking = new TimedStore(delegate, timers);
  }

  @Override
  public CompletableFuture<KVPair> putAsync(String key, byte[] value, WriteOptions options) {
    long t = timers.start();
    CompletableFuture<KVPair> f;
    try {
      f = delegate.putAsync(key, value, options);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.PUT_ASYNC, t, e);
      throw e;
    }
    return timed(f, Operation.PUT_ASYNC, t);
  }

  @Override
  public CompletableFuture<Void> deleteAsync(String key) {
    long t = timers.start();
    CompletableFuture<Void> f;
    try {
      f = delegate.deleteAsync(key);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.DELETE_ASYNC, t, e);
      throw e;
    }
    return timed(f, Operation.DELETE_ASYNC, t);
  }

  @Override
  public CompletableFuture<KVPair> atomicPutAsync(
      String key, byte[] value, KVPair previous, WriteOptions options) {
    long t = timers.start();
    CompletableFuture<KVPair> f;
    try {
      f = delegate.atomicPutAsync(key, value, previous, options);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.ATOMIC_PUT_ASYNC, t, e);
      throw e;
    }
    return timed(f, Operation.ATOMIC_PUT_ASYNC, t);
  }

  @Override
  public CompletableFuture<Boolean> atomicDeleteAsync(String key, KVPair previous) {
    long t = timers.start();
    CompletableFuture<Boolean> f;
    try {
      f = delegate.atomicDeleteAsync(key, previous);
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.ATOMIC_DELETE_ASYNC, t, e);
      throw e;
    }
    return timed(f, Operation.ATOMIC_DELETE_ASYNC, t);
  }

  private <T> CompletableFuture<T> timed(CompletableFuture<T> f, Operation op, long startNs) {
    // A side branch: the caller keeps the delegate's future itself.
    f.whenComplete((r, e) -> timers.complete(op, startNs, e));
    return f;
  }

  @Override
  public void put(String key, byte[] value, WriteOptions options) {
    blocking.put(key, value, options);
  }

  @Override
  public KVPair get(String key) {
    return blocking.get(key);
  }

  @Override
  public void delete(String key) {
    blocking.delete(key);
  }

  @Override
  public boolean exists(String key) {
    return blocking.exists(key);
  }

  @Override
  public Watch<KVPair> watch(String key) {
    return blocking.watch(key);
  }

  @Override
  public Watch<KVPair> watch(String key, long afterIndex) {
    return blocking.watch(key, afterIndex);
  }

  @Override
  public Watch<List<KVPair>> watchTree(String directory) {
    return blocking.watchTree(directory);
  }

  @Override
  public Locker newLock(String key, LockOptions options) {
    return blocking.newLock(key, options);
  }

  @Override
  public List<KVPair> list(String directory) {
    return blocking.list(directory);
  }

  @Override
  public void deleteTree(String directory) {
    blocking.deleteTree(directory);
  }

  @Override
  public KVPair atomicPut(String key, byte[] value, KVPair previous, WriteOptions options) {
    return blocking.atomicPut(key, value, previous, options);
  }

  @Override
  public boolean atomicDelete(String key, KVPair previous) {
    return blocking.atomicDelete(key, previous);
  }

  @Override
  public void close() {
    blocking.close();
  }

  @Override
  public String toString() {
    return "Metered[" + delegate + "]";
  }
}
