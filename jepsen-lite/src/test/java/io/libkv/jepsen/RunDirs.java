package io.libkv.jepsen;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.TestInfo;

/**
 * Run directories under {@code target/jepsen/<class>.<method>}: kept after the build, so a failed
 * run leaves its node logs, {@code history.txt} and the checker's report (shrunk history and SVG
 * timeline) for inspection; emptied at the start of the next run of the same test.
 */
final class RunDirs {
  private RunDirs() {}

  static Path fresh(TestInfo info) {
    Path dir =
        Path.of("target", "jepsen")
            .resolve(
                info.getTestClass().map(Class::getSimpleName).orElse("run")
                    + "."
                    + info.getTestMethod().map(m -> m.getName()).orElse("test"))
            .toAbsolutePath();
    try {
      if (Files.exists(dir)) {
        try (Stream<Path> s = Files.walk(dir)) {
          for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
            Files.delete(p);
          }
        }
      }
      return Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + dir, e);
    }
  }
}
