package io.libkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class VersionTest {

  @Test
  void versionIsTheOneTheBuildWrote() {
    // The pom passes the project version to the test JVM.
    String expected = System.getProperty("libkv.expectedVersion");
    assertNotNull(expected, "run through Maven: the pom sets libkv.expectedVersion");
    StringWriter out = new StringWriter();
    CommandLine cli = LibkvCli.newCommandLine();
    cli.setOut(new PrintWriter(out));

    int status = cli.execute("--version");

    assertEquals(0, status);
    assertEquals("libkv-java " + expected, out.toString().strip());
  }
}
