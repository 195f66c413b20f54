package io.libkv.store;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A key, its value and the cluster-wide index of the write that produced it.
 *
 * <p>In watch events a {@code null} value marks a deletion, with {@code lastIndex} the index of the
 * deleting write. Equality compares the value's bytes, not the array reference. The array is not
 * copied: callers that keep a pair must not change its value.
 *
 * @param key the normalised key (no leading or trailing {@code /})
 * @param value the value, empty but never {@code null} for a stored pair; {@code null} for a
 *     deletion event
 * @param lastIndex the index of the last write to this key, greater than 0
 */
public record KVPair(String key, byte[] value, long lastIndex) {

  /** Checks that {@code key} is present. */
  public KVPair {
    Objects.requireNonNull(key, "key");
  }

  /** Returns whether this pair reports a deletion (a {@code null} value). */
  public boolean isDeletion() {
    return value == null;
  }

  /** Returns the value decoded as UTF-8, or {@code null} for a deletion. */
  public String valueAsString() {
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof KVPair other)) {
      return false;
    }
    return lastIndex == other.lastIndex
        && key.equals(other.key)
        && Arrays.equals(value, other.value);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * key.hashCode() + Arrays.hashCode(value)) + Long.hashCode(lastIndex);
  }

  @Override
  public String toString() {
    String shown;
    if (value == null) {
      shown = "<deleted>";
    } else if (value.length <= 64) {
      shown = '"' + new String(value, StandardCharsets.UTF_8) + '"';
    } else {
      shown = value.length + " bytes";
    }
    return "KVPair[key=" + key + ", value=" + shown + ", lastIndex=" + lastIndex + ']';
  }
}
