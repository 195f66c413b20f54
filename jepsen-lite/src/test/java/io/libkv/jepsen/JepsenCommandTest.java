package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class JepsenCommandTest {
  @Test
  void parsesTheDocumentedCommandLine() {
    JepsenCommand c = new JepsenCommand();
    new CommandLine(c)
        .parseArgs("--nemesis", "partition,kill,pause,clock", "--time", "120s", "--seed", "42");
    assertEquals(List.of("partition", "kill", "pause", "clock"), c.nemeses);
    assertEquals(Duration.ofSeconds(120), c.time);
    assertEquals(42L, c.seed);
    assertEquals(3, c.nodes);
    assertEquals("linearizable", c.reads);
  }

  @Test
  void parsesTheNewNemesesAndNodeOptions() {
    JepsenCommand c = new JepsenCommand();
    new CommandLine(c)
        .parseArgs(
            "--nemesis",
            "member,crash,process-clock",
            "--backend",
            "lmdb",
            "--node-option",
            "lmdb.sync=false",
            "--node-option",
            "embedded.snapshotThreshold=20");
    assertEquals(List.of("member", "crash", "process-clock"), c.nemeses);
    assertEquals("lmdb", c.backend);
    assertEquals(List.of("lmdb.sync=false", "embedded.snapshotThreshold=20"), c.nodeOptions);
    for (String n : c.nemeses) {
      assertTrue(Nemesis.KINDS.contains(n), n);
    }
  }

  @Test
  void checksASavedHistory(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("history.txt");
    JepsenRun.writeHistory(
        Histories.on("k").write(0, "1", 0, 10).write(0, "2", 20, 30).read(1, "1", 40, 50).ops(),
        file);
    Path report = dir.resolve("report");
    int code =
        new CommandLine(new JepsenCommand())
            .execute("--check", file.toString(), "--dir", report.toString());
    assertEquals(1, code);
    assertTrue(Files.exists(report.resolve("k.svg")));
    JepsenRun.writeHistory(Histories.on("k").write(0, "1", 0, 10).read(1, "1", 20, 30).ops(), file);
    assertEquals(
        0,
        new CommandLine(new JepsenCommand())
            .execute("--check", file.toString(), "--dir", report.toString()));
  }

  @Test
  void durations() {
    JepsenCommand.DurationConverter d = new JepsenCommand.DurationConverter();
    assertEquals(Duration.ofMillis(500), d.convert("500ms"));
    assertEquals(Duration.ofMinutes(2), d.convert("2m"));
    assertEquals(Duration.ofSeconds(90), d.convert("PT90S"));
    assertThrows(IllegalArgumentException.class, () -> d.convert("soon"));
  }

  @Test
  void unknownNemesisIsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new Nemesis(null, 1, List.of("meteor"), 1, 2, System.out, 0));
  }
}
