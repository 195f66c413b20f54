package io.libkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.xml.parsers.DocumentBuilderFactory;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ScaleReportTest {
  @TempDir Path dir;

  private static Result result(String target, String workload, int valueSize, long... us) {
    Histogram h = new Histogram(WorkloadRunner.MAX_LATENCY_NS, 3);
    for (long u : us) {
      h.recordValue(u * 1000);
    }
    return Result.of(target, workload, 8, valueSize, 2.0, 0, 0, h, null, null);
  }

  private static Footprint fp(long disk, long memory) {
    return new Footprint(disk, memory, 0, -1, "test");
  }

  private static ScaleReport report() {
    ScaleRun.Step k1 =
        new ScaleRun.Step(
            "embedded",
            "keys",
            1000,
            1000,
            256,
            result("embedded", "load", 256, 100, 200),
            List.of(result("embedded", "put", 256, 1000, 2000), result("embedded", "get", 256, 10)),
            fp(1_000_000, 50_000_000),
            fp(1_500_000, 51_000_000),
            new ClusterDeployment.Restart("n2", 800, 900),
            new ClusterDeployment.CatchUp("n4", 500, 700, 0, 0),
            null);
    ScaleRun.Step k2 =
        new ScaleRun.Step(
            "embedded",
            "keys",
            10_000,
            9000,
            256,
            result("embedded", "load", 256, 100),
            List.of(result("embedded", "put", 256, 3000), result("embedded", "get", 256, 20)),
            fp(1_600_000, 51_000_000),
            fp(6_100_000, 60_000_000),
            new ClusterDeployment.Restart("n2", 1000, 1500),
            new ClusterDeployment.CatchUp("n5", 900, 1200, 8123, 4 << 20),
            null);
    ScaleRun.Step v =
        new ScaleRun.Step(
            "lmdb",
            "values",
            100,
            100,
            4096,
            result("lmdb", "load", 4096, 10),
            List.of(result("lmdb", "put", 4096, 500), result("lmdb", "get", 4096, 1)),
            fp(0, -1),
            fp(500_000, -1),
            null,
            null,
            null);
    return new ScaleReport(
        "./libkv bench scale",
        "2026-01-01T00:00:00Z",
        Map.of("cores", "2"),
        "1.00 2.00 3.00",
        "4.00 5.00 6.00",
        8,
        Map.of("embedded (data size)", "3 members"),
        List.of("a note"),
        List.of(),
        List.of(k1, k2, v));
  }

  @Test
  void perKeyFiguresComeFromWhatTheStepAdded() {
    ScaleRun.Step k2 = report().steps().get(1);
    assertEquals(500.0, k2.diskAddedPerKey(), 1e-9); // (6.1M - 1.6M) / 9000
    assertEquals(610.0, k2.diskTotalPerKey(), 1e-9); // 6.1M / 10000
    assertEquals(1000.0, k2.memoryAddedPerKey(), 1e-9); // 9M / 9000
    assertTrue(Double.isNaN(report().steps().get(2).memoryAddedPerKey()), "unknown stays unknown");
  }

  @Test
  void writesJsonMarkdownAndWellFormedCharts() throws Exception {
    List<Path> files = report().writeTo(dir);
    for (String name :
        List.of(
            "scale.json",
            "scale.md",
            "scale-keys-put-throughput.svg",
            "scale-keys-get-p99.svg",
            "scale-values-put-throughput.svg",
            "scale-values-get-p99.svg",
            "scale-embedded-recovery.svg")) {
      assertTrue(files.contains(dir.resolve(name)), name + " in " + files);
    }
    for (Path p : files) {
      if (p.toString().endsWith(".svg")) {
        assertEquals(
            "svg",
            DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(new ByteArrayInputStream(Files.readAllBytes(p)))
                .getDocumentElement()
                .getNodeName(),
            p.toString());
      }
    }
    String keysSvg = Files.readString(dir.resolve("scale-keys-put-throughput.svg"));
    assertTrue(keysSvg.contains(">1k<") && keysSvg.contains(">10k<"), keysSvg);
    assertTrue(Files.readString(dir.resolve("scale-values-put-p99.svg")).contains(">4 KiB<"));

    JsonNode root = new ObjectMapper().readTree(dir.resolve("scale.json").toFile());
    assertEquals(3, root.get("steps").size());
    JsonNode s2 = root.get("steps").get(1);
    assertEquals(10_000, s2.get("keys").asInt());
    assertEquals(1500.0, s2.get("restart").get("readyMs").asDouble(), 1e-9);
    assertEquals(
        "snapshot install (log starts at index 8123)", s2.get("catchUp").get("method").asText());
    assertEquals("4.00 5.00 6.00", root.get("loadAveragesAtEnd").asText());

    String md = Files.readString(dir.resolve("scale.md"));
    assertTrue(md.contains("| embedded | 10,000 | 256 B |"), md);
    assertTrue(md.contains("| 1,000 | 800 | 900 | 500 | 700 | log replay from index 0 |"), md);
    assertTrue(md.contains("at start: 1.00 2.00 3.00; at end: 4.00 5.00 6.00"), md);
  }

  @Test
  void labelsKeysAndValueSizes() {
    assertEquals("10k", ScaleReport.label("keys", 10_000));
    assertEquals("1M", ScaleReport.label("keys", 1_000_000));
    assertEquals("1500", ScaleReport.label("keys", 1500));
    assertEquals("16 B", ScaleReport.label("values", 16));
    assertEquals("64 KiB", ScaleReport.label("values", 65536));
  }

  @Test
  void logStartIndexReadsRatisSegmentNames() throws Exception {
    Path raft = Files.createDirectories(dir.resolve("n4/raft/group/current"));
    assertEquals(-1, ClusterDeployment.logStartIndex(dir.resolve("n4")));
    Files.createFile(raft.resolve("log_inprogress_5001"));
    Files.createFile(raft.resolve("log_4001-5000"));
    Files.createFile(raft.resolve("raft-meta"));
    assertEquals(4001, ClusterDeployment.logStartIndex(dir.resolve("n4")));
  }
}
