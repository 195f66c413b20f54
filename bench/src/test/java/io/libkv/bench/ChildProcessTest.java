package io.libkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ChildProcessTest {
  @Test
  void aRelativeClassPathIsMadeAbsoluteForChildrenThatRunElsewhere() {
    String cwd = Path.of("").toAbsolutePath().toString();
    String cp = String.join(File.pathSeparator, "cli/target/libkv-cli.jar", "/opt/x.jar");
    assertEquals(
        String.join(
            File.pathSeparator, Path.of(cwd, "cli/target/libkv-cli.jar").toString(), "/opt/x.jar"),
        ChildProcess.absoluteClassPath(cp));
  }
}
