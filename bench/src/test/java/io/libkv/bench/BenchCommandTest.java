package io.libkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BenchCommandTest {

  @Test
  void durationFlagsTakeTheProjectsDurationNotation() {
    BenchCommand c = new BenchCommand();
    new CommandLine(c).parseArgs("--duration", "1m30s", "--warmup", "PT7S");
    assertEquals(Duration.ofSeconds(90), c.duration);
    assertEquals(Duration.ofSeconds(7), c.warmup);
    CommandLine.ParameterException e =
        assertThrows(
            CommandLine.ParameterException.class,
            () -> new CommandLine(new BenchCommand()).parseArgs("--duration", "soon"));
    assertTrue(e.getMessage().contains("soon"), e.getMessage());
  }

  @Test
  void defaultsMatchTheIssue() {
    BenchCommand c = new BenchCommand();
    new CommandLine(c).parseArgs();
    assertEquals(List.of("embedded", "etcd", "zk", "lmdb"), c.backends);
    assertEquals(List.of(1, 64, 512), c.clients);
    assertEquals(256, c.valueSize);
    assertEquals(100000, c.keys);
    assertEquals(Duration.ofSeconds(30), c.duration);
    assertTrue(c.rawEtcd);
  }

  @Test
  void parsesLists() {
    BenchCommand c = new BenchCommand();
    new CommandLine(c)
        .parseArgs(
            "--backends",
            "etcd,lmdb",
            "--clients",
            "1,8",
            "--workload",
            "put,get",
            "--no-raw-etcd");
    assertEquals(List.of("etcd", "lmdb"), c.backends);
    assertEquals(List.of(1, 8), c.clients);
    assertEquals(List.of("put", "get"), c.workloads);
    assertEquals(false, c.rawEtcd);
  }

  @Test
  void refusesAnUnknownBackendOrWorkloadWithAUsageError() {
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new BenchCommand()).setErr(new PrintWriter(err));
    assertEquals(2, cl.execute("--backends", "redis"));
    assertTrue(err.toString().contains("redis"), err.toString());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Workload.parse("scan"));
    assertTrue(e.getMessage().contains("scan"));
  }

  @Test
  void hasTheJmhSubcommand() {
    CommandLine cl = new CommandLine(new BenchCommand());
    assertTrue(cl.getSubcommands().containsKey("jmh"));
  }
}
