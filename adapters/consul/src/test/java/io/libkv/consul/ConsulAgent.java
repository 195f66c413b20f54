package io.libkv.consul;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real Consul agent for the integration tests: the one named by {@code CONSUL_HTTP_ADDR}, or a
 * {@code consul agent -dev} started on 127.0.0.1 with free ports when {@code consul} is on the
 * PATH, stopped by {@link #close()}.
 */
final class ConsulAgent implements AutoCloseable {
  /** Why the integration tests are skipped when no agent can be had. */
  static final String NO_AGENT = "no consul on PATH and CONSUL_HTTP_ADDR unset";

  private final String endpoint;
  private final Process process;
  private final Path dataDir;

  private ConsulAgent(String endpoint, Process process, Path dataDir) {
    this.endpoint = endpoint;
    this.process = process;
    this.dataDir = dataDir;
  }

  /** Returns an agent, or empty when neither {@code CONSUL_HTTP_ADDR} nor a binary is there. */
  static Optional<ConsulAgent> find() throws IOException, InterruptedException {
    String addr = System.getenv("CONSUL_HTTP_ADDR");
    if (addr != null && !addr.isBlank()) {
      return Optional.of(new ConsulAgent(addr.strip(), null, null));
    }
    Optional<Path> binary = onPath("consul");
    if (binary.isEmpty()) {
      return Optional.empty();
    }
    int http = freePort();
    Path data = Files.createTempDirectory("libkv-consul-it");
    List<String> cmd = new ArrayList<>();
    cmd.add(binary.get().toString());
    cmd.add("agent");
    cmd.add("-dev");
    cmd.add("-bind=127.0.0.1");
    cmd.add("-client=127.0.0.1");
    cmd.add("-http-port=" + http);
    cmd.add("-dns-port=-1");
    cmd.add("-grpc-port=-1");
    cmd.add("-server-port=" + freePort());
    cmd.add("-serf-lan-port=" + freePort());
    cmd.add("-serf-wan-port=" + freePort());
    cmd.add("-data-dir=" + data);
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(data.resolve("agent.log").toFile())
            .start();
    ConsulAgent agent = new ConsulAgent("127.0.0.1:" + http, p, data);
    try {
      agent.awaitLeader(Duration.ofSeconds(60));
    } catch (IOException | RuntimeException e) {
      agent.close();
      throw e;
    }
    return Optional.of(agent);
  }

  String endpoint() {
    return endpoint;
  }

  private void awaitLeader(Duration within) throws IOException, InterruptedException {
    HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + within.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      if (process != null && !process.isAlive()) {
        throw new IOException(
            "consul agent exited: " + Files.readString(dataDir.resolve("agent.log")));
      }
      try {
        HttpResponse<String> r =
            c.send(
                HttpRequest.newBuilder(URI.create("http://" + endpoint + "/v1/status/leader"))
                    .timeout(Duration.ofSeconds(2))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        last = r.body();
        if (r.statusCode() == 200 && last.strip().length() > 2) {
          return;
        }
      } catch (IOException e) {
        last = e.toString();
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new IOException("consul agent at " + endpoint + " has no leader: " + last);
  }

  private static Optional<Path> onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    if (process != null) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
