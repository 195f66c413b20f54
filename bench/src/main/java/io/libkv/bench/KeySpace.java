package io.libkv.bench;

import java.util.Locale;

/**
 * The keys a run uses: {@code <prefix>/k0000000} to {@code <prefix>/k<size-1>}, precomputed so that
 * building a key costs nothing in the measured loop.
 */
final class KeySpace {
  private final String prefix;
  private final String[] keys;
  private final int size;

  KeySpace(String prefix, int size) {
    if (size < 1) {
      throw new IllegalArgumentException("key space must hold at least 1 key, was " + size);
    }
    this.prefix = prefix;
    this.keys = new String[size];
    this.size = size;
    for (int i = 0; i < size; i++) {
      keys[i] = String.format(Locale.ROOT, "%s/k%07d", prefix, i);
    }
  }

  private KeySpace(String prefix, String[] keys, int size) {
    this.prefix = prefix;
    this.keys = keys;
    this.size = size;
  }

  /** The first {@code n} keys of this space, sharing its key strings (for growing data sets). */
  KeySpace first(int n) {
    if (n < 1 || n > keys.length) {
      throw new IllegalArgumentException(
          "a prefix of the key space holds 1 to " + keys.length + " keys, not " + n);
    }
    return new KeySpace(prefix, keys, n);
  }

  int size() {
    return size;
  }

  String key(int i) {
    if (i >= size) {
      throw new IndexOutOfBoundsException("key " + i + " of a space of " + size);
    }
    return keys[i];
  }

  /** The key the watch workload writes and watches. */
  String hotKey() {
    return prefix + "/hot";
  }

  String prefix() {
    return prefix;
  }
}
