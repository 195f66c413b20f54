package io.libkv.bench;

import java.util.Locale;

/**
 * The keys a run uses: {@code <prefix>/k0000000} to {@code <prefix>/k<size-1>}, precomputed so that
 * building a key costs nothing in the measured loop.
 */
final class KeySpace {
  private final String prefix;
  private final String[] keys;

  KeySpace(String prefix, int size) {
    if (size < 1) {
      throw new IllegalArgumentException("key space must hold at least 1 key, was " + size);
    }
    this.prefix = prefix;
    this.keys = new String[size];
    for (int i = 0; i < size; i++) {
      keys[i] = String.format(Locale.ROOT, "%s/k%07d", prefix, i);
    }
  }

  int size() {
    return keys.length;
  }

  String key(int i) {
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
