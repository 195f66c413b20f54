package io.libkv.micrometer;

import io.libkv.store.HeldLock;
import io.libkv.store.Locker;
import java.time.Duration;

/**
 * Times {@link Locker#lock()} (the wait for the lock included) and {@link Locker#unlock()} of a
 * locker from a {@link TimedStore}.
 */
final class TimedLocker implements Locker {
  private final Locker delegate;
  private final CallTimers timers;

  TimedLocker(Locker delegate, CallTimers timers) {
    this.delegate = delegate;
    this.timers = timers;
  }

  @Override
  public HeldLock lock() throws InterruptedException {
    long t = timers.start();
    HeldLock r;
    try {
      r = delegate.lock();
    } catch (InterruptedException | RuntimeException | Error e) {
      timers.failure(Operation.LOCK, t, e);
      throw e;
    }
    timers.success(Operation.LOCK, t);
    return r;
  }

  @Override
  public HeldLock lock(Duration timeout) throws InterruptedException {
    long t = timers.start();
    HeldLock r;
    try {
      r = delegate.lock(timeout);
    } catch (InterruptedException | RuntimeException | Error e) {
      timers.failure(Operation.LOCK, t, e);
      throw e;
    }
    timers.success(Operation.LOCK, t);
    return r;
  }

  @Override
  public void unlock() {
    long t = timers.start();
    try {
      delegate.unlock();
    } catch (RuntimeException | Error e) {
      timers.failure(Operation.UNLOCK, t, e);
      throw e;
    }
    timers.success(Operation.UNLOCK, t);
  }

  @Override
  public String toString() {
    return "Metered[" + delegate + "]";
  }
}
