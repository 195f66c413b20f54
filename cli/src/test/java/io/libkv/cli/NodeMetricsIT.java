package io.libkv.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.raft.EmbeddedNode;
import io.libkv.raft.LoopbackPorts;
import io.libkv.store.Config;
import io.libkv.store.Store;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ./libkv node --metrics-port 0} in this JVM, scraped over HTTP: not ready (503) while it is
 * the only member of three up, ready (200) once the others start, its metrics following the writes,
 * the endpoint gone once the member stops.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class NodeMetricsIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private final HttpClient http =
      HttpClient.newBuilder()
          .proxy(HttpClient.Builder.NO_PROXY)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  @TempDir Path dir;

  private static int freePort() {
    return LoopbackPorts.reserve("127.0.0.1");
  }

  private HttpResponse<String> request(String method, URI uri)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(uri)
            .method(method, HttpRequest.BodyPublishers.noBody())
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString(UTF_8));
  }

  private HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
    return request("GET", uri);
  }

  /** Requests {@code uri} until the response passes {@code ok}; returns that response. */
  private HttpResponse<String> await(URI uri, Predicate<HttpResponse<String>> ok, String what)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    HttpResponse<String> r = get(uri);
    while (!ok.test(r)) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "not within " + WAIT + ": " + what + "; last answer:\n" + r.body());
      }
      Thread.sleep(50);
      r = get(uri);
    }
    return r;
  }

  /**
   * The value of the sample {@code name} whose labels include every {@code k="v"} given, or NaN if
   * there is none.
   */
  static double sample(String text, String name, String... labels) {
    for (String line : text.split("\n")) {
      if (!line.startsWith(name + "{")) {
        continue;
      }
      int close = line.lastIndexOf('}');
      String set = line.substring(name.length() + 1, close);
      boolean all = true;
      for (String l : labels) {
        all &= List.of(set.split(",")).contains(l);
      }
      if (all) {
        return Double.parseDouble(line.substring(close + 1).trim().split(" ")[0]);
      }
    }
    return Double.NaN;
  }

  @Test
  void metricsAndHealthFollowTheMemberFromNoLeaderToServingToStopped() throws Exception {
    List<String> peers = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      peers.add("n" + i + "=127.0.0.1:" + freePort());
    }
    NodeCommand command = new NodeCommand();
    CommandLine cli = new CommandLine(command);
    ExecutorService runner = Executors.newSingleThreadExecutor();
    List<EmbeddedNode> others = new ArrayList<>();
    try {
      Future<Integer> exit =
          runner.submit(
              () ->
                  cli.execute(
                      "--id",
                      "n1",
                      "--peers",
                      String.join(",", peers),
                      "--data-dir",
                      dir.resolve("n1").toString(),
                      "--metrics-port",
                      "0"));
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (command.metrics == null) {
        assertTrue(System.nanoTime() - deadline < 0, "the metrics endpoint did not start");
        assertTrue(!exit.isDone(), "the node command ended: " + (exit.isDone() ? exit.get() : ""));
        Thread.sleep(20);
      }
      int port = command.metrics.address().getPort();
      assertEquals(
          InetAddress.getLoopbackAddress(),
          command.metrics.address().getAddress(),
          "loopback by default");
      URI health = URI.create("http://127.0.0.1:" + port + "/health");
      URI metrics = URI.create("http://127.0.0.1:" + port + "/metrics");

      // One member of three cannot elect a leader: not ready, and saying why.
      HttpResponse<String> notReady = get(health);
      assertEquals(503, notReady.statusCode(), notReady.body());
      assertTrue(notReady.body().contains("\"ready\":false"), notReady.body());
      assertTrue(notReady.body().contains("no leader known"), notReady.body());
      HttpResponse<String> first = get(metrics);
      assertEquals(200, first.statusCode());
      assertTrue(
          first.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"),
          first.headers().toString());
      assertEquals(0, sample(first.body(), "libkv_member_ready", "member=\"n1\""), first.body());

      for (int i = 2; i <= 3; i++) {
        others.add(
            EmbeddedNode.start(
                peers, Config.builder().nodeId("n" + i).dataDir(dir.resolve("n" + i)).build()));
      }
      HttpResponse<String> ready = await(health, r -> r.statusCode() == 200, "ready");
      assertTrue(ready.body().contains("\"ready\":true"), ready.body());
      assertTrue(ready.body().contains("\"member\":\"n1\""), ready.body());

      long commit;
      try (Store s = others.get(0).openStore()) {
        for (int i = 0; i < 10; i++) {
          s.put("metrics/" + i, "v".getBytes(UTF_8), null);
        }
        commit = others.get(0).status().commitIndex();
      }
      String text =
          await(
                  metrics,
                  r ->
                      sample(r.body(), "libkv_member_applied_index", "member=\"n1\"") >= commit
                          && sample(r.body(), "libkv_member_ready", "member=\"n1\"") == 1,
                  "n1 applied index " + commit)
              .body();
      double roles = 0;
      for (String role : new String[] {"leader", "follower", "candidate", "learner", "stopped"}) {
        double v = sample(text, "libkv_member_role", "member=\"n1\"", "role=\"" + role + "\"");
        assertTrue(v == 0 || v == 1, role + " " + v + "\n" + text);
        roles += v;
      }
      assertEquals(1, roles, text);
      assertTrue(sample(text, "libkv_member_term", "member=\"n1\"") >= 1, text);
      assertTrue(sample(text, "libkv_member_commit_index", "member=\"n1\"") >= commit, text);
      assertTrue(sample(text, "libkv_member_log_size_bytes", "member=\"n1\"") > 0, text);
      assertTrue(sample(text, "libkv_member_disk_free_bytes", "member=\"n1\"") > 0, text);
      assertTrue(sample(text, "libkv_member_snapshot_index", "member=\"n1\"") >= -1, text);
      assertEquals(0, sample(text, "libkv_member_watches_open", "member=\"n1\""), text);
      assertEquals(0, sample(text, "libkv_member_leases_live", "member=\"n1\""), text);
      assertEquals(0, sample(text, "libkv_member_watch_events_dropped_total", "member=\"n1\""));
      assertTrue(sample(text, "libkv_member_writes_queued", "member=\"n1\"") >= 0, text);
      assertTrue(text.contains("jvm_memory_used_bytes{"), "JVM metrics too");

      assertEquals(404, get(URI.create("http://127.0.0.1:" + port + "/other")).statusCode());
      assertEquals(405, request("POST", health).statusCode());
      HttpResponse<String> head = request("HEAD", health);
      assertEquals(200, head.statusCode());
      assertEquals("", head.body());

      // Stopping the member ends the command and its endpoint.
      command.node.close();
      assertEquals(0, exit.get(WAIT.toSeconds(), TimeUnit.SECONDS));
      assertThrows(IOException.class, () -> get(health));
    } finally {
      if (command.node != null) {
        command.node.close();
      }
      for (EmbeddedNode n : others) {
        n.close();
      }
      runner.shutdownNow();
    }
  }
}
