package io.libkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
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
import org.w3c.dom.Document;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ReportTest {
  @TempDir Path dir;

  private static Result result(String target, String workload, int clients, long... latenciesUs) {
    Histogram h = new Histogram(WorkloadRunner.MAX_LATENCY_NS, 3);
    for (long us : latenciesUs) {
      h.recordValue(us * 1000);
    }
    return Result.of(target, workload, clients, 256, 2.0, 0, 0, h, null, null);
  }

  private Report report() {
    return new Report(
        "./libkv bench --backends embedded,etcd",
        "2026-01-01T00:00:00Z",
        Map.of("cores", "2"),
        new FsyncProbe.Fsync(100, 1000, 3000, 1200, 5000, "/tmp"),
        Map.of("etcd", "etcd 3.4 <three> & members"),
        List.of("shared machine"),
        List.of(),
        List.of(
            result("embedded", "put", 1, 1500, 1600, 1700),
            result("etcd", "put", 1, 2000, 2100),
            result("etcd-raw", "put", 1, 1900, 2000),
            result("embedded", "put", 64, 4000, 5000, 6000, 7000),
            result("etcd", "put", 64, 8000, 9000),
            result("etcd-raw", "put", 64, 7000, 9000),
            result("embedded", "get", 64, 300, 400),
            result("etcd", "get", 64, 900)));
  }

  @Test
  void writesJsonMarkdownAndWellFormedSvgPerWorkload() throws Exception {
    List<Path> files = report().writeTo(dir);
    for (String name :
        List.of(
            "results.json",
            "results.md",
            "throughput-put.svg",
            "latency-put.svg",
            "throughput-get.svg",
            "latency-get.svg")) {
      assertTrue(files.contains(dir.resolve(name)), name);
      assertTrue(Files.size(dir.resolve(name)) > 100, name);
    }
    for (Path p : files) {
      if (p.toString().endsWith(".svg")) {
        Document d =
            DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(new ByteArrayInputStream(Files.readAllBytes(p)));
        assertEquals("svg", d.getDocumentElement().getNodeName(), p.toString());
      }
    }
    String svg = Files.readString(dir.resolve("throughput-put.svg"));
    assertTrue(svg.contains("etcd-raw") && svg.contains("<polyline"), svg);
  }

  @Test
  void jsonParsesAndCarriesEveryResultAndTheFsyncFloor() throws Exception {
    report().writeTo(dir);
    JsonNode root = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
    assertEquals(8, root.get("results").size());
    assertEquals(1000.0, root.get("fsync").get("p50Us").asDouble(), 1e-9);
    JsonNode first = root.get("results").get(0);
    assertEquals("embedded", first.get("target").asText());
    assertEquals(3, first.get("ops").asLong());
    assertEquals(1.5, first.get("opsPerSec").asDouble(), 1e-9);
    assertEquals("etcd 3.4 <three> & members", root.get("deployments").get("etcd").asText());
  }

  @Test
  void ratiosComeFromTheMeasuredNumbers() {
    Report r = report();
    Map<String, Double> byName =
        r.ratios().stream()
            .collect(java.util.stream.Collectors.toMap(Report.Ratio::name, Report.Ratio::value));
    // 4 ops vs 2 ops in the same 2 s: embedded/etcd = 2.0 at 64 clients.
    assertEquals(2.0, byName.get("embedded/etcd put throughput, 64 clients"), 1e-9);
    assertEquals(1.0, byName.get("etcd adapter/raw jetcd put throughput, 64 clients"), 1e-9);
    // p50 of {1500,1600,1700} us is 1.6 ms; fsync p50 is 1 ms.
    assertEquals(0.6, byName.get("single-client put p50 minus fsync p50 (ms), embedded"), 0.01);
    String md = r.markdown();
    assertTrue(md.contains("| embedded | 64 |"), md);
    assertTrue(md.contains("fsync floor"), md);
    assertTrue(md.contains("![throughput](throughput-put.svg)"), md);
  }

  @Test
  void pipelinedPutIsReportedAsARatioToTheBlockingPut() {
    Report r =
        new Report(
            "cmd",
            "2026-01-01T00:00:00Z",
            Map.of(),
            new FsyncProbe.Fsync(100, 1000, 3000, 1200, 5000, "/tmp"),
            Map.of(),
            List.of(),
            List.of(),
            List.of(
                result("lmdb", "put", 4, 1000, 1000),
                result("lmdb", "pipelined-put", 4, 500, 500, 500, 500, 500, 500)));
    Map<String, Double> byName =
        r.ratios().stream()
            .collect(java.util.stream.Collectors.toMap(Report.Ratio::name, Report.Ratio::value));
    assertEquals(3.0, byName.get("lmdb pipelined/blocking put throughput, 4 clients"), 1e-9);
  }

  @Test
  void jsonEscapesAndFormatsNumbers() {
    String j = Json.write(Map.of("a\"b", List.of(1.5, 2.0, 0.00001, "x\ny")));
    assertTrue(j.contains("\"a\\\"b\""), j);
    assertTrue(
        j.contains("1.5") && j.contains("2,") && j.contains("0.0") && j.contains("x\\ny"), j);
    assertTrue(
        new String(j.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).endsWith("\n"));
  }
}
