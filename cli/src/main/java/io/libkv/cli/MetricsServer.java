package io.libkv.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.libkv.micrometer.EmbeddedMemberMetrics;
import io.libkv.raft.EmbeddedNode;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The HTTP endpoint of {@code ./libkv node --metrics-port}: {@code GET /metrics} answers the
 * Prometheus text of the member's meters ({@link EmbeddedMemberMetrics}) and the JVM's, {@code GET
 * /health} a {@link HealthReport}. One daemon thread serves the requests, one at a time.
 */
final class MetricsServer implements AutoCloseable {
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor;
  private final PrometheusMeterRegistry registry;
  private final JvmGcMetrics gc;
  private final EmbeddedNode node;
  private final AtomicBoolean closed = new AtomicBoolean();

  private MetricsServer(HttpServer server, EmbeddedNode node) {
    this.server = server;
    this.node = node;
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new EmbeddedMemberMetrics(node).bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    this.gc = new JvmGcMetrics();
    gc.bindTo(registry);
    this.executor =
        Executors.newSingleThreadExecutor(
            task -> {
              Thread t = new Thread(task, "libkv-metrics-" + node.id());
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/metrics", this::metrics);
    server.createContext("/health", this::health);
    server.createContext("/", x -> reply(x, 404, "text/plain; charset=utf-8", "not found\n"));
  }

  /**
   * Serves {@code node}'s metrics and health on {@code host:port} ({@code port} 0: any free port,
   * see {@link #address()}).
   *
   * @throws UncheckedIOException if the address cannot be bound (in use, or not local)
   */
  static MetricsServer start(String host, int port, EmbeddedNode node) {
    HttpServer http;
    try {
      http = HttpServer.create(new InetSocketAddress(host, port), 16);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot serve metrics on "
              + host
              + ":"
              + port
              + " ("
              + e.getMessage()
              + "); choose another --metrics-port or --metrics-host",
          e);
    }
    MetricsServer s = new MetricsServer(http, node);
    http.start();
    return s;
  }

  /** The address the server listens on. */
  InetSocketAddress address() {
    return server.getAddress();
  }

  private void metrics(HttpExchange x) throws IOException {
    if (refused(x, "/metrics")) {
      return;
    }
    reply(x, 200, PROMETHEUS_TEXT, registry.scrape());
  }

  private void health(HttpExchange x) throws IOException {
    if (refused(x, "/health")) {
      return;
    }
    HealthReport report = new HealthReport(node.status());
    reply(x, report.httpStatus(), "application/json", report.json() + "\n");
  }

  /** Answers anything but a GET or HEAD of exactly {@code path} with 404 or 405. */
  private static boolean refused(HttpExchange x, String path) throws IOException {
    if (!x.getRequestURI().getPath().equals(path)) {
      reply(x, 404, "text/plain; charset=utf-8", "not found\n");
      return true;
    }
    String method = x.getRequestMethod();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      x.getResponseHeaders().set("Allow", "GET, HEAD");
      reply(x, 405, "text/plain; charset=utf-8", "only GET and HEAD\n");
      return true;
    }
    return false;
  }

  private static void reply(HttpExchange x, int status, String contentType, String body)
      throws IOException {
    try (x) {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      x.getResponseHeaders().set("Content-Type", contentType);
      boolean head = x.getRequestMethod().equals("HEAD");
      x.sendResponseHeaders(status, head ? -1 : bytes.length);
      if (!head) {
        try (OutputStream out = x.getResponseBody()) {
          out.write(bytes);
        }
      }
    }
  }

  /** Stops serving (requests in progress are cut off) and releases the meters. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    server.stop(0);
    executor.shutdownNow();
    gc.close();
    registry.close();
  }
}
