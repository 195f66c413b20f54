package io.libkv.consul;

import java.time.Duration;

/** Durations in Consul's notation ({@code 10s}, {@code 1500ms}, {@code 2m}), both ways. */
final class ConsulDurations {
  private ConsulDurations() {}

  /** Formats {@code d} in whole milliseconds, which Consul's Go duration parser accepts. */
  static String format(Duration d) {
    return d.toMillis() + "ms";
  }

  /**
   * Parses {@code 250ms}, {@code 10s}, {@code 2m}, {@code 1h}.
   *
   * @throws IllegalArgumentException if the form is not one of these
   */
  static Duration parse(String s) {
    String t = s.strip();
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (t.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
      }
      if (t.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
      }
      if (t.endsWith("h")) {
        return Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a duration: " + s, e);
    }
    throw new IllegalArgumentException("not a duration: " + s);
  }
}
