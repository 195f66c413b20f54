package io.libkv.cli;

import io.libkv.spi.Durations;
import java.time.Duration;
import picocli.CommandLine;

/** Reads a duration flag with the project's one duration reader ({@link Durations#parse}). */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    try {
      return Durations.parse(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }
}
