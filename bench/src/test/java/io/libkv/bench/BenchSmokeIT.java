package io.libkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The harness end to end, in its smallest form: every backend for ~1 s per phase on tiny data,
 * through the command line, then the results files read back. Checks that numbers were measured and
 * are consistent, never how fast anything is.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class BenchSmokeIT {
  /** The backends this module's build puts on the class path; each must run. */
  private static final List<String> BACKENDS = List.of("embedded", "lmdb", "etcd", "zk");

  @TempDir Path tmp;

  @Test
  void runsEveryBackendAndWritesSaneResults() throws Exception {
    Path out = tmp.resolve("results");
    Path data = tmp.resolve("data");
    int status =
        new CommandLine(new BenchCommand())
            .execute(
                "--backends", String.join(",", BACKENDS),
                "--members", "1",
                "--clients", "4",
                "--keys", "100",
                "--value-size", "64",
                "--workload", "put,get",
                "--duration", "600ms",
                "--warmup", "100ms",
                "--load-clients", "8",
                "--fsync-samples", "20",
                "--embedded-mode", "in-process",
                "--out", out.toString(),
                "--data-dir", data.toString());
    JsonNode root = new ObjectMapper().readTree(out.resolve("results.json").toFile());
    assertEquals(0, root.get("failures").size(), root.get("failures").toString());
    assertEquals(0, status);

    assertTrue(root.get("fsync").get("p50Us").asDouble() > 0);
    Set<String> seen = new HashSet<>();
    for (JsonNode r : root.get("results")) {
      String what = r.toString();
      seen.add(
          r.get("target").asText()
              + "/"
              + r.get("workload").asText()
              + "/"
              + r.get("clients").asInt());
      assertEquals(0, r.get("errors").asLong(), what);
      assertTrue(r.get("ops").asLong() > 0, what);
      double p50 = r.get("p50Us").asDouble();
      double p99 = r.get("p99Us").asDouble();
      double max = r.get("maxUs").asDouble();
      assertTrue(p50 > 0 && p50 <= p99 && p99 <= max * 1.001, what);
      double rate = r.get("ops").asDouble() / r.get("seconds").asDouble();
      assertEquals(rate, r.get("opsPerSec").asDouble(), rate * 0.01, what);
    }
    List<String> expected = new ArrayList<>();
    for (String b : BACKENDS) {
      List<String> targets = b.equals("etcd") ? List.of("etcd", "etcd-raw") : List.of(b);
      for (String t : targets) {
        expected.add(t + "/load/8");
        for (String w : List.of("put", "get")) {
          for (int c : List.of(4)) {
            expected.add(t + "/" + w + "/" + c);
          }
        }
      }
    }
    assertEquals(new HashSet<>(expected), seen);

    for (String f :
        List.of(
            "results.md",
            "throughput-put.svg",
            "latency-put.svg",
            "throughput-get.svg",
            "latency-get.svg")) {
      assertTrue(Files.size(out.resolve(f)) > 100, f);
    }
    String md = Files.readString(out.resolve("results.md"));
    assertTrue(md.contains("fsync floor"), md);
    // Servers and their data directories are gone.
    try (Stream<Path> left = Files.list(data)) {
      assertEquals(
          List.of(),
          left.filter(p -> p.getFileName().toString().startsWith("libkv-bench-")).toList());
    }
  }
}
