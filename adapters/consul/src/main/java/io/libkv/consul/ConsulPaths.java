package io.libkv.consul;

import java.nio.charset.StandardCharsets;

/**
 * URL encoding of keys and query values. A key's bytes are percent-encoded except unreserved
 * characters and {@code /}, so Consul (which reads the decoded path) sees the key unchanged.
 */
final class ConsulPaths {
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private ConsulPaths() {}

  /** Returns {@code kv/<encoded key>}. */
  static String kv(String key) {
    return "kv/" + encode(key, true);
  }

  /** Encodes a query parameter value. */
  static String encodeQueryValue(String value) {
    return encode(value, false);
  }

  private static String encode(String s, boolean keepSlash) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    StringBuilder b = new StringBuilder(bytes.length + 8);
    for (byte x : bytes) {
      int c = x & 0xff;
      boolean plain =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '.'
              || c == '_'
              || c == '~'
              || (keepSlash && c == '/');
      if (plain) {
        b.append((char) c);
      } else {
        b.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
      }
    }
    return b.toString();
  }
}
