package io.libkv.consul;

import java.time.Duration;

/**
 * Durations as Consul reads them (Go's notation); reading them is {@link
 * io.libkv.spi.Durations#parse}'s.
 */
final class ConsulDurations {
  private ConsulDurations() {}

  /** Formats {@code d} in whole milliseconds, which Consul's Go duration parser accepts. */
  static String format(Duration d) {
    return d.toMillis() + "ms";
  }
}
