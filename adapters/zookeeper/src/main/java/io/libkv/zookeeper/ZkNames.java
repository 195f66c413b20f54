package io.libkv.zookeeper;

/**
 * Turns a normalised key into znode names and back. ZooKeeper refuses some characters that keys may
 * hold (U+007F..U+009F, surrogates and so every character beyond U+FFFF, the private use area
 * U+E000..U+F8FF, and U+FFF0..U+FFFF); each such UTF-16 unit, and {@code %} itself, is written as
 * {@code %} and four hex digits. Everything else, {@code /} included, stays as it is.
 */
final class ZkNames {
  private ZkNames() {}

  static String encode(String key) {
    int i = 0;
    while (i < key.length() && !needsEscape(key.charAt(i))) {
      i++;
    }
    if (i == key.length()) {
      return key;
    }
    StringBuilder b = new StringBuilder(key.length() + 16).append(key, 0, i);
    for (; i < key.length(); i++) {
      char c = key.charAt(i);
      if (needsEscape(c)) {
        b.append('%').append(String.format("%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  static String decode(String name) {
    int i = name.indexOf('%');
    if (i < 0) {
      return name;
    }
    StringBuilder b = new StringBuilder(name.length()).append(name, 0, i);
    while (i < name.length()) {
      char c = name.charAt(i);
      if (c == '%' && i + 5 <= name.length()) {
        b.append((char) Integer.parseInt(name.substring(i + 1, i + 5), 16));
        i += 5;
      } else {
        b.append(c);
        i++;
      }
    }
    return b.toString();
  }

  private static boolean needsEscape(char c) {
    return c == '%'
        || (c >= '\u007f' && c <= '\u009f')
        || (c >= '\ud800' && c <= '\uf8ff')
        || c >= '\ufff0';
  }
}
