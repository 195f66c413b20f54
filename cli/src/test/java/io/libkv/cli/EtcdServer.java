package io.libkv.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One real etcd server for the command line's tests: {@code etcd} from the PATH (Debian's
 * etcd-server, as the etcd module's tests use), on 127.0.0.1 ports that were free, data in a
 * directory the caller owns. {@link #close()} kills it.
 */
final class EtcdServer implements AutoCloseable {
  private final Process process;
  private final int clientPort;
  private final Path log;

  private EtcdServer(Process process, int clientPort, Path log) {
    this.process = process;
    this.clientPort = clientPort;
    this.log = log;
  }

  /** Starts etcd with its data under {@code dir} and returns once it reports itself healthy. */
  static EtcdServer start(Path dir) throws IOException, InterruptedException {
    int client = KvCli.closedPort();
    int peer = KvCli.closedPort();
    while (peer == client) {
      peer = KvCli.closedPort();
    }
    String clientUrl = "http://127.0.0.1:" + client;
    String peerUrl = "http://127.0.0.1:" + peer;
    Path log = dir.resolve("etcd.log");
    Process p =
        new ProcessBuilder(
                List.of(
                    "etcd",
                    "--name=cli",
                    "--data-dir=" + dir.resolve("data"),
                    "--listen-client-urls=" + clientUrl,
                    "--advertise-client-urls=" + clientUrl,
                    "--listen-peer-urls=" + peerUrl,
                    "--initial-advertise-peer-urls=" + peerUrl,
                    "--initial-cluster=cli=" + peerUrl,
                    "--logger=zap",
                    "--log-level=warn"))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    EtcdServer server = new EtcdServer(p, client, log);
    try {
      server.awaitHealthy(Duration.ofSeconds(60));
      return server;
    } catch (RuntimeException | InterruptedException e) {
      server.close();
      throw e;
    }
  }

  String endpoint() {
    return "127.0.0.1:" + clientPort;
  }

  private void awaitHealthy(Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!healthy()) {
      if (!process.isAlive() || System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(
            "etcd did not become healthy within " + within + "; its log:\n" + logText());
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
  }

  private boolean healthy() {
    try {
      HttpURLConnection c =
          (HttpURLConnection)
              URI.create("http://" + endpoint() + "/health").toURL().openConnection();
      c.setConnectTimeout(500);
      c.setReadTimeout(2000);
      try (InputStream in = c.getInputStream()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8).contains("\"true\"");
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return false;
    }
  }

  private String logText() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Kills etcd (SIGKILL) and waits for it to exit. */
  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
