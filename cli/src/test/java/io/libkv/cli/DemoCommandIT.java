package io.libkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Runs {@code ./libkv demo} end to end, so the README's main command cannot rot. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DemoCommandIT {

  @Test
  void demoRunsAClusterThroughFailoverWithNothingLost(@TempDir Path dir) {
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    int exit;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      CommandLine cli = LibkvCli.newCommandLine();
      cli.setErr(new PrintWriter(err, true));
      exit = cli.execute("demo", "--data-dir", dir.toString(), "--increments", "10");
    } finally {
      System.setOut(stdout);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    stdout.println(out);
    assertEquals(0, exit, "demo failed:\n" + out + "\n" + err);
    assertTrue(out.contains("counter = 40 (expected 40)"), out);
    assertTrue(out.contains("100 of 100 present"), out);
    assertTrue(out.contains("serves all 100 events"), out);
    assertTrue(out.contains("fencing token"), out);
  }

  @Test
  void helpListsTheCommands() {
    StringWriter help = new StringWriter();
    CommandLine cli = LibkvCli.newCommandLine();
    cli.setOut(new PrintWriter(help, true));
    assertEquals(0, cli.execute("--help"));
    for (String command : new String[] {"demo", "node", "bench", "jepsen"}) {
      assertTrue(help.toString().contains(command), help.toString());
    }
  }
}
