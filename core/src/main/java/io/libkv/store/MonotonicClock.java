package io.libkv.store;

/**
 * A monotonic time source in nanoseconds, injected through {@link Config#clock()} so that TTL and
 * lease logic can be tested by moving time instead of sleeping. Only differences between readings
 * mean anything.
 */
@FunctionalInterface
public interface MonotonicClock {
  /** The system's monotonic clock, {@link System#nanoTime()}. */
  MonotonicClock SYSTEM = System::nanoTime;

  /** Returns the current reading in nanoseconds. */
  long nanoTime();
}
