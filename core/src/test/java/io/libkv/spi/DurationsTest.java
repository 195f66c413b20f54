package io.libkv.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
  @Test
  void readsGoNotationBareSecondsAndIso8601() {
    assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
    assertEquals(Duration.ofSeconds(90), Durations.parse("1m30s"));
    assertEquals(Duration.ofMinutes(90), Durations.parse("1.5h"));
    assertEquals(Duration.ofSeconds(30), Durations.parse(" 30 "));
    assertEquals(Duration.ofSeconds(30), Durations.parse("PT30S"));
    assertEquals(Duration.ofNanos(1_500), Durations.parse("1us500ns"));
    assertEquals(Duration.ofNanos(2_000), Durations.parse("2µs"));
    assertEquals(Duration.ofDays(2).plusHours(3), Durations.parse("2d3h"));
    assertEquals(Duration.ZERO, Durations.parse("0"));
    assertEquals(Duration.ofMillis(1_250), Durations.parse("1.25s"));
  }

  @Test
  void refusesAnythingElseNamingTheText() {
    for (String bad : new String[] {"", "s", "-5s", "5x", "1m30", "PT-1S", "P", "ms10"}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Durations.parse(bad), bad);
      assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> Durations.parse(null));
  }
}
