package io.libkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class DurationConverterTest {
  private final DurationConverter converter = new DurationConverter();

  @Test
  void readsDurationsAsPeopleWriteThem() {
    assertEquals(Duration.ofMillis(500), converter.convert("500ms"));
    assertEquals(Duration.ofSeconds(10), converter.convert("10s"));
    assertEquals(Duration.ofSeconds(10), converter.convert("10"));
    assertEquals(Duration.ofSeconds(90), converter.convert("1m30s"));
    assertEquals(Duration.ofHours(2), converter.convert("2h"));
    assertEquals(Duration.ofDays(1), converter.convert("1d"));
    assertEquals(Duration.ofSeconds(15), converter.convert("PT15S"));
    assertEquals(Duration.ZERO, converter.convert("0s"));
  }

  @Test
  void refusesWhatIsNotADuration() {
    for (String bad : new String[] {"", "soon", "10x", "s", "1m30", "-5s", "P1Q"}) {
      assertThrows(
          CommandLine.TypeConversionException.class, () -> converter.convert(bad), "'" + bad + "'");
    }
  }
}
