package io.libkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NodeCommandTest {
  @TempDir Path dir;

  @Test
  void tlsFilesGoTogether() {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new NodeCommand());
    cli.setErr(new PrintWriter(err));
    int status =
        cli.execute(
            "--id",
            "n1",
            "--peers",
            "n1=127.0.0.1:1",
            "--data-dir",
            dir.resolve("n1").toString(),
            "--tls-cert",
            dir.resolve("n1.pem").toString());
    assertEquals(2, status, err.toString());
    assertTrue(
        err.toString().contains("--tls-cert, --tls-key and --tls-ca go together"), err.toString());
  }

  @Test
  void aMetricsPortOutOfRangeIsRefused() {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new NodeCommand());
    cli.setErr(new PrintWriter(err));
    int status =
        cli.execute(
            "--id",
            "n1",
            "--peers",
            "n1=127.0.0.1:1",
            "--data-dir",
            dir.resolve("n1").toString(),
            "--metrics-port",
            "70000");
    assertEquals(2, status, err.toString());
    assertTrue(err.toString().contains("--metrics-port must be 0..65535"), err.toString());
  }
}
