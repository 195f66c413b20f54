package io.libkv.micrometer;

import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Keeps the last value read from a source for a while, so that the gauges of one scrape read it
 * once, not once each. Thread-safe: readers that find it stale wait for one of them to read it.
 *
 * @param <T> the value
 */
final class Sampler<T> {
  private final Supplier<T> source;
  private final LongSupplier nanoClock;
  private final long maxAgeNs;
  // Guarded by this.
  private T last;
  private long readAtNs;

  /**
   * @param nanoClock a monotonic clock in nanoseconds
   * @param maxAgeNs how long a value is reused after it was read
   */
  Sampler(Supplier<T> source, LongSupplier nanoClock, long maxAgeNs) {
    this.source = Objects.requireNonNull(source, "source");
    this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    this.maxAgeNs = maxAgeNs;
  }

  /** Returns the value read less than {@code maxAgeNs} ago, or reads it now. */
  synchronized T get() {
    long now = nanoClock.getAsLong();
    if (last == null || now - readAtNs >= maxAgeNs) {
      last = Objects.requireNonNull(source.get(), "sample");
      readAtNs = now;
    }
    return last;
  }
}
