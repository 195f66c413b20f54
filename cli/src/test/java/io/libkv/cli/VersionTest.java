package io.libkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
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

  @Test
  void everySubcommandPrintsTheSameVersion() {
    String expected = "libkv-java " + System.getProperty("libkv.expectedVersion");
    List<List<String>> commands = new ArrayList<>();
    collect(LibkvCli.newCommandLine(), new ArrayList<>(), commands);
    assertTrue(commands.size() > 10, "found the subcommands: " + commands);
    for (List<String> path : commands) {
      if (path.isEmpty() || path.contains("help")) {
        continue;
      }
      StringWriter out = new StringWriter();
      CommandLine cli = LibkvCli.newCommandLine();
      cli.setOut(new PrintWriter(out));
      List<String> args = new ArrayList<>(path);
      args.add("--version");
      assertEquals(0, cli.execute(args.toArray(String[]::new)), String.join(" ", args));
      assertEquals(expected, out.toString().strip(), String.join(" ", args));
    }
  }

  private static void collect(CommandLine c, List<String> path, List<List<String>> out) {
    if (c.getCommandSpec().mixinStandardHelpOptions()) {
      out.add(List.copyOf(path));
    }
    for (java.util.Map.Entry<String, CommandLine> e : c.getSubcommands().entrySet()) {
      if (!e.getKey().equals(e.getValue().getCommandName())) {
        continue; // an alias
      }
      List<String> p = new ArrayList<>(path);
      p.add(e.getKey());
      collect(e.getValue(), p, out);
    }
  }
}
