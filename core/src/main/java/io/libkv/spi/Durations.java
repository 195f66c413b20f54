package io.libkv.spi;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one reader of durations written by people or by Go servers, for every option, flag and server
 * reply of the project: Go's notation ({@code 500ms}, {@code 10s}, {@code 1m30s}, {@code 1.5h},
 * with {@code ns}, {@code us} or {@code µs}, {@code ms}, {@code s}, {@code m}, {@code h}, and
 * {@code d} for days), a bare number of seconds ({@code 30}), or ISO-8601 ({@code PT30S}).
 */
public final class Durations {
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h|d)");

  private Durations() {}

  /**
   * Reads {@code text}.
   *
   * @throws IllegalArgumentException naming the text and the forms accepted, for anything else
   *     (negative durations included)
   */
  public static Duration parse(String text) {
    String v = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
    if (v.matches("\\d+")) {
      return Duration.ofSeconds(Long.parseLong(v));
    }
    if (v.startsWith("p")) {
      try {
        Duration d = Duration.parse(v.toUpperCase(Locale.ROOT));
        if (!d.isNegative()) {
          return d;
        }
      } catch (DateTimeParseException e) {
        throw invalid(text, e);
      }
      throw invalid(text, null);
    }
    Matcher m = PART.matcher(v);
    BigDecimal nanos = BigDecimal.ZERO;
    int end = 0;
    while (end < v.length() && m.region(end, v.length()).lookingAt()) {
      BigDecimal n = new BigDecimal(m.group(1));
      long unit =
          switch (m.group(2)) {
            case "ns" -> 1L;
            case "us", "µs" -> 1_000L;
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            case "h" -> 3_600_000_000_000L;
            default -> 86_400_000_000_000L;
          };
      nanos = nanos.add(n.multiply(BigDecimal.valueOf(unit)));
      end = m.end();
    }
    if (end == 0 || end != v.length()) {
      throw invalid(text, null);
    }
    try {
      BigDecimal[] secondsAndNanos = nanos.divideAndRemainder(BigDecimal.valueOf(1_000_000_000L));
      return Duration.ofSeconds(
          secondsAndNanos[0].longValueExact(), secondsAndNanos[1].longValue());
    } catch (ArithmeticException e) {
      throw invalid(text, e);
    }
  }

  private static IllegalArgumentException invalid(String text, Exception cause) {
    return new IllegalArgumentException(
        "bad duration '"
            + text
            + "': use e.g. 500ms, 30s, 1m30s, 2h, a number of seconds, or ISO-8601 PT30S",
        cause);
  }
}
