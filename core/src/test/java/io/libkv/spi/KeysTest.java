package io.libkv.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class KeysTest {

  @Test
  void dropsLeadingAndTrailingSlashes() {
    assertEquals("a/b", Keys.normalize("a/b"));
    assertEquals("a/b", Keys.normalize("/a/b"));
    assertEquals("a/b", Keys.normalize("a/b/"));
    assertEquals("a/b", Keys.normalize("///a/b///"));
    assertEquals("a", Keys.normalize("a"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"", "/", "///", "a//b", "a/./b", "a/../b", "..", "a/\u0000", "a\nb", "a\u007fb"})
  void refusesWhatNoBackendCanStoreAlike(String bad) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Keys.normalize(bad));
    assertTrue(e.getMessage().startsWith("key "), e.getMessage());
  }

  @Test
  void refusesUnpairedSurrogates() {
    assertThrows(IllegalArgumentException.class, () -> Keys.normalize("a\ud800b"));
    assertThrows(IllegalArgumentException.class, () -> Keys.normalize("a\udc00"));
    assertEquals("a/\ud83d\udd11", Keys.normalize("a/\ud83d\udd11"));
  }

  @Test
  void enforcesTheByteLimitInUtf8() {
    String ascii = "k".repeat(Keys.MAX_KEY_BYTES);
    assertEquals(ascii, Keys.normalize(ascii));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Keys.normalize(ascii + "k"));
    assertTrue(e.getMessage().contains("512 bytes"), e.getMessage());
    assertTrue(e.getMessage().contains("511"), e.getMessage());
    // 256 two-byte characters are 512 bytes: over, although only 256 chars long.
    assertThrows(IllegalArgumentException.class, () -> Keys.normalize("é".repeat(256)));
    assertEquals(4, Keys.utf8Length("\ud83d\udd11"));
    assertEquals(Keys.utf8("é€\ud83d\udd11").length, Keys.utf8Length("é€\ud83d\udd11"));
  }

  @Test
  void nullKeyIsANullPointer() {
    assertThrows(NullPointerException.class, () -> Keys.normalize(null));
  }

  @Test
  void directoryRelations() {
    assertTrue(Keys.isUnder("a/b", "a"));
    assertFalse(Keys.isUnder("ab", "a"));
    assertFalse(Keys.isUnder("a", "a"));
    assertTrue(Keys.isAtOrUnder("a", "a"));
    assertFalse(Keys.isAtOrUnder("a/", "a/b"));
  }

  @Test
  void valueLimitNamesTheLimit() {
    Keys.checkValue(new byte[10], 10);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Keys.checkValue(new byte[11], 10));
    assertTrue(e.getMessage().contains("11 bytes") && e.getMessage().contains("10 bytes"));
    assertThrows(NullPointerException.class, () -> Keys.checkValue(null, 10));
  }
}
