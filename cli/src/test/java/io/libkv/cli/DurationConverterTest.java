package io.libkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.libkv.spi.Durations;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * The CLI's duration flags: {@link Durations} reads them (its own test covers the notation); the
 * converter only turns a refusal into picocli's conversion error, with the reader's message, so
 * picocli reports it as a bad flag value.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class DurationConverterTest {
  private final DurationConverter converter = new DurationConverter();

  @Test
  void readsWhatTheProjectsDurationReaderReads() {
    assertEquals(Duration.ofSeconds(90), converter.convert("1m30s"));
    assertEquals(Duration.ofSeconds(15), converter.convert("PT15S"));
  }

  @Test
  void aRefusalIsPicocliConversionErrorWithTheReadersMessage() {
    String expected =
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("soon")).getMessage();
    CommandLine.TypeConversionException e =
        assertThrows(CommandLine.TypeConversionException.class, () -> converter.convert("soon"));
    assertEquals(expected, e.getMessage());
  }
}
