package io.libkv.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ZkNamesTest {

  @Test
  void plainKeysAreUnchanged() {
    String k = "a/b/ключ/鍵";
    assertSame(k, ZkNames.encode(k));
    assertSame(k, ZkNames.decode(k));
  }

  @Test
  void charactersZooKeeperRefusesAreEscapedAndComeBack() {
    for (String k : List.of("🔑", "a/100%/b", "x\u0080y", "\ue000", "\ufff0end", "%0041")) {
      String encoded = ZkNames.encode(k);
      for (char c : encoded.toCharArray()) {
        boolean refused =
            (c >= '\u007f' && c <= '\u009f') || (c >= '\ud800' && c <= '\uf8ff') || c >= '\ufff0';
        assertTrue(!refused, "encoded form of " + k + " still holds U+" + Integer.toHexString(c));
      }
      assertEquals(k, ZkNames.decode(encoded), "round trip of " + encoded);
    }
    assertEquals("a/100%0025/b", ZkNames.encode("a/100%/b"));
  }
}
