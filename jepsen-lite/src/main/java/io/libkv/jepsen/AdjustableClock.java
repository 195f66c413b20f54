package io.libkv.jepsen;

import io.libkv.store.MonotonicClock;

/**
 * A monotonic clock whose rate can change and which can jump forward, for the clock nemesis: a
 * node's store measures its leases and TTLs with it. Never goes backwards.
 *
 * <p>Thread-safe.
 */
final class AdjustableClock implements MonotonicClock {
  private long anchorReal = System.nanoTime();
  private long anchorValue = anchorReal;
  private double rate = 1.0;

  @Override
  public synchronized long nanoTime() {
    long real = System.nanoTime();
    return anchorValue + (long) ((real - anchorReal) * rate);
  }

  /**
   * From now on runs at {@code rate} times real time, after jumping forward by {@code jumpNanos}.
   *
   * @throws IllegalArgumentException if the rate is not positive or the jump negative
   */
  synchronized void adjust(long jumpNanos, double newRate) {
    if (!(newRate > 0) || jumpNanos < 0) {
      throw new IllegalArgumentException(
          "clock rate must be > 0 and jump >= 0, was rate " + newRate + " jump " + jumpNanos);
    }
    long now = nanoTime();
    anchorReal = System.nanoTime();
    anchorValue = now + jumpNanos;
    rate = newRate;
  }

  synchronized double rate() {
    return rate;
  }
}
