package io.libkv.spi;

import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.Objects;

/**
 * Key normalisation and argument limits, in one place for every backend.
 *
 * <p>A key is a {@code /}-separated UTF-8 path. {@link #normalize} drops leading and trailing
 * slashes and refuses what no backend can store alike: an empty key, a NUL or other control
 * character, an empty or {@code .}/{@code ..} segment ({@code a//b}, {@code a/../b}), unpaired
 * surrogates (not UTF-8), and keys over {@link #MAX_KEY_BYTES} bytes.
 */
public final class Keys {
  /** The longest key accepted, in UTF-8 bytes. */
  public static final int MAX_KEY_BYTES = 511;

  /**
   * The order keys are listed in on every backend: UTF-8 byte order, which is Unicode code point
   * order (LMDB's and etcd's own order; Java's {@code String.compareTo} differs from it for
   * characters beyond U+FFFF).
   */
  public static final Comparator<String> ORDER = Keys::compare;

  private static int compare(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  private Keys() {}

  /**
   * Returns the normalised form of {@code key}.
   *
   * @throws IllegalArgumentException naming the rule the key breaks
   * @throws NullPointerException if {@code key} is {@code null}
   */
  public static String normalize(String key) {
    Objects.requireNonNull(key, "key");
    int start = 0;
    int end = key.length();
    while (start < end && key.charAt(start) == '/') {
      start++;
    }
    while (end > start && key.charAt(end - 1) == '/') {
      end--;
    }
    if (start == end) {
      throw new IllegalArgumentException("key must not be empty (was \"" + printable(key) + "\")");
    }
    String k = key.substring(start, end);
    int segmentStart = 0;
    for (int i = 0; i < k.length(); i++) {
      char c = k.charAt(i);
      if (c == 0) {
        throw new IllegalArgumentException("key must not contain NUL: \"" + printable(k) + "\"");
      }
      if (c < 0x20 || c == 0x7f) {
        throw new IllegalArgumentException(
            "key must not contain control characters: \"" + printable(k) + "\"");
      }
      if (Character.isSurrogate(c)) {
        boolean paired =
            Character.isHighSurrogate(c)
                && i + 1 < k.length()
                && Character.isLowSurrogate(k.charAt(i + 1));
        if (!paired) {
          throw new IllegalArgumentException(
              "key is not valid UTF-8 (unpaired surrogate at " + i + "): \"" + printable(k) + "\"");
        }
        i++;
        continue;
      }
      if (c == '/') {
        checkSegment(k, segmentStart, i);
        segmentStart = i + 1;
      }
    }
    checkSegment(k, segmentStart, k.length());
    int bytes = utf8Length(k);
    if (bytes > MAX_KEY_BYTES) {
      throw new IllegalArgumentException(
          "key is " + bytes + " bytes in UTF-8, over the limit of " + MAX_KEY_BYTES + " bytes");
    }
    return k;
  }

  /**
   * Returns the normalised form of a directory argument ({@code list}, {@code watchTree}, {@code
   * deleteTree}); the same rules as {@link #normalize}.
   */
  public static String normalizeDirectory(String directory) {
    return normalize(directory);
  }

  /** Returns whether {@code key} is {@code directory} itself or lies under it (both normalised). */
  public static boolean isAtOrUnder(String key, String directory) {
    return key.equals(directory) || isUnder(key, directory);
  }

  /** Returns whether {@code key} lies strictly under {@code directory} (both normalised). */
  public static boolean isUnder(String key, String directory) {
    return key.length() > directory.length() + 1
        && key.startsWith(directory)
        && key.charAt(directory.length()) == '/';
  }

  /**
   * Checks a value against the limit.
   *
   * @throws IllegalArgumentException if it is larger than {@code maxValueBytes}
   * @throws NullPointerException if {@code value} is {@code null}
   */
  public static byte[] checkValue(byte[] value, int maxValueBytes) {
    Objects.requireNonNull(value, "value");
    if (value.length > maxValueBytes) {
      throw new IllegalArgumentException(
          "value is " + value.length + " bytes, over the limit of " + maxValueBytes + " bytes");
    }
    return value;
  }

  /** Returns the number of bytes {@code s} takes in UTF-8. */
  public static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }

  /** Returns {@code key} encoded as UTF-8. */
  public static byte[] utf8(String key) {
    return key.getBytes(StandardCharsets.UTF_8);
  }

  private static void checkSegment(String k, int from, int to) {
    int len = to - from;
    if (len == 0) {
      throw new IllegalArgumentException(
          "key must not contain an empty segment (//): \"" + k + "\"");
    }
    if ((len == 1 && k.charAt(from) == '.')
        || (len == 2 && k.charAt(from) == '.' && k.charAt(from + 1) == '.')) {
      throw new IllegalArgumentException(
          "key must not contain a '.' or '..' segment: \"" + k + "\"");
    }
  }

  private static String printable(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length() && i < 80; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return s.length() > 80 ? b + "..." : b.toString();
  }
}
