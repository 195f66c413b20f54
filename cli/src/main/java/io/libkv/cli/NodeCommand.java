package io.libkv.cli;

import io.libkv.raft.EmbeddedNode;
import io.libkv.raft.NodeOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./libkv node}: runs one member of an embedded cluster in this process until it is stopped
 * (SIGTERM or Ctrl-C close it cleanly).
 */
@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    description = {
      "Run one member of an embedded libkv cluster until stopped.",
      "Exits 0 when stopped (SIGTERM), 1 when the member stopped by itself (a full disk or an I/O"
          + " error; the reason is printed): free the cause and start it again, it catches up."
    })
final class NodeCommand implements Callable<Integer> {

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--id", required = true, description = "This member's id, one of --peers.")
  String id;

  @Option(
      names = "--peers",
      required = true,
      split = ",",
      description = "Every member, as ID=HOST:PORT,ID=HOST:PORT,...")
  List<String> peers;

  @Option(names = "--data-dir", required = true, description = "This member's data directory.")
  Path dataDir;

  @Option(
      names = "--join",
      description =
          "Start as a new member that waits, taking no part, to be added to a running cluster"
              + " (./libkv member add; for member add --learner, also --option"
              + " embedded.joinAs=learner).")
  boolean join;

  @Option(
      names = "--option",
      description = "A backend option NAME=VALUE (see the README), repeatable.")
  Map<String, String> options = Map.of();

  @Option(
      names = "--tls-cert",
      description =
          "This member's certificate (PEM). With --tls-key and --tls-ca: mutual TLS on every"
              + " connection (see SECURITY.md).")
  Path tlsCert;

  @Option(names = "--tls-key", description = "This member's private key (unencrypted PKCS#8 PEM).")
  Path tlsKey;

  @Option(names = "--tls-ca", description = "The cluster's CA certificate(s) (PEM).")
  Path tlsCa;

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description =
          "Serve Prometheus metrics at http://HOST:PORT/metrics and readiness at /health (200 when"
              + " this member knows a leader and has applied all it knows committed, else 503)."
              + " 0 picks a free port. Off by default.")
  Integer metricsPort;

  @Option(
      names = "--metrics-host",
      paramLabel = "HOST",
      defaultValue = "127.0.0.1",
      description =
          "The address --metrics-port listens on (default: ${DEFAULT-VALUE}, this host only).")
  String metricsHost;

  /** The running member, once started (for tests in this package). */
  volatile EmbeddedNode node;

  /** The metrics endpoint, once started with --metrics-port (for tests in this package). */
  volatile MetricsServer metrics;

  @Override
  public Integer call() throws InterruptedException {
    NodeOptions launch;
    try {
      launch = NodeOptions.of(id, peers, dataDir, join, options, tlsCert, tlsKey, tlsCa);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--metrics-port must be 0..65535, was " + metricsPort);
    }
    EmbeddedNode node = launch.start();
    MetricsServer metrics = null;
    try {
      if (metricsPort != null) {
        metrics = MetricsServer.start(metricsHost, metricsPort, node);
      }
    } catch (RuntimeException e) {
      node.close();
      throw e;
    }
    MetricsServer m = metrics;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  if (m != null) {
                    m.close();
                  }
                  node.close();
                },
                "libkv-node-shutdown"));
    this.metrics = metrics;
    this.node = node;
    System.out.println("libkv node " + node.endpoint() + " running, data in " + node.dataDir());
    if (metrics != null) {
      String at = "http://" + metricsHost + ":" + metrics.address().getPort();
      System.out.println("metrics at " + at + "/metrics, health at " + at + "/health");
    }
    try {
      node.awaitStop();
      if (node.failure().isPresent()) {
        // The member stopped by itself (a full disk, an I/O error): exit non-zero so that a
        // supervisor sees it and restarts the member once the cause is fixed.
        System.err.println("libkv node " + node.endpoint() + ": " + node.failure().get());
        node.close();
        return 1;
      }
      node.awaitClose();
      return 0;
    } finally {
      if (metrics != null) {
        metrics.close();
      }
    }
  }
}
