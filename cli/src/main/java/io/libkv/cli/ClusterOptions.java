package io.libkv.cli;

import io.libkv.raft.ClusterAdmin;
import io.libkv.store.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The connection options of {@code ./libkv member}, {@code leader} and {@code status} (an embedded
 * cluster reached as a client, as {@code ./libkv kv --backend embedded} reaches it), and the one
 * place that opens a {@link ClusterAdmin} from them and turns what it throws into an exit status
 * ({@link KvStatus}: 2 usage, 5 unreachable, 1 anything else).
 */
final class ClusterOptions {
  @Option(
      names = "--endpoints",
      split = ",",
      defaultValue = "${env:LIBKV_ENDPOINTS}",
      paramLabel = "ID=HOST:PORT",
      description =
          "Comma-separated members (some or all; the others are learned from them), or"
              + " LIBKV_ENDPOINTS.")
  List<String> endpoints;

  @Option(
      names = "--timeout",
      defaultValue = "10s",
      converter = DurationConverter.class,
      paramLabel = "DURATION",
      description =
          "How long to wait for the cluster before giving up with status 5 (default:"
              + " ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--tls-cert", paramLabel = "FILE", description = "Client certificate (PEM).")
  Path tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "FILE",
      description = "Client private key (unencrypted PKCS#8 PEM).")
  Path tlsKey;

  @Option(
      names = "--tls-ca",
      paramLabel = "FILE",
      description = "The cluster's CA certificate(s) (PEM); the three --tls-* options go together.")
  Path tlsCa;

  @Option(
      names = "--option",
      paramLabel = "NAME=VALUE",
      description = "An embedded option as the members have it (e.g. embedded.group), repeatable.")
  Map<String, String> options = Map.of();

  @Option(names = "--json", description = "Print one JSON object per line instead of text.")
  boolean json;

  @Option(names = "--verbose", description = "On failure print the whole error with its causes.")
  boolean verbose;

  /** What a command does with the open handle; returns its exit status. */
  @FunctionalInterface
  interface AdminAction {
    int run(ClusterAdmin admin, ClusterOutput out);
  }

  /**
   * Opens the handle the options describe, runs {@code action} on it and closes it; returns the
   * action's status, or the status of what went wrong after printing it on {@code command}'s error
   * stream. Usage errors are thrown for picocli to report (status 2).
   */
  int run(CommandLine command, AdminAction action) {
    String name = command.getCommandSpec().qualifiedName();
    Config config = config(command);
    List<String> eps = endpoints(command);
    ClusterOutput out = new ClusterOutput(command.getOut(), json);
    try (ClusterAdmin admin = ClusterAdmin.connect(eps, config)) {
      return action.run(admin, out);
    } catch (ParameterException e) {
      throw e;
    } catch (RuntimeException e) {
      return KvStatus.report(name, e, verbose, command.getErr());
    }
  }

  /**
   * The endpoints given, trimmed.
   *
   * @throws ParameterException if there are none or one is empty
   */
  List<String> endpoints(CommandLine command) {
    List<String> eps =
        endpoints == null ? List.of() : endpoints.stream().map(String::trim).toList();
    if (eps.isEmpty() || eps.stream().anyMatch(String::isEmpty)) {
      throw new ParameterException(
          command,
          "needs --endpoints (or LIBKV_ENDPOINTS), e.g. n1=10.0.0.1:7001,n2=10.0.0.2:7001");
    }
    return eps;
  }

  /**
   * A client's configuration from the options: connection timeout, {@code --option}s, TLS files.
   *
   * @throws ParameterException if the timeout is not positive, an option is invalid, or only one of
   *     --tls-cert and --tls-key is given
   */
  Config config(CommandLine command) {
    if (timeout.isZero() || timeout.isNegative()) {
      throw new ParameterException(command, "--timeout must be positive, was " + timeout);
    }
    try {
      Config.Builder cb = Config.builder().connectionTimeout(timeout);
      options.forEach(cb::option);
      if (tlsCert != null || tlsKey != null || tlsCa != null) {
        if ((tlsCert == null) != (tlsKey == null)) {
          throw new ParameterException(command, "--tls-cert and --tls-key go together");
        }
        cb.tls(new Config.TlsFiles(tlsCert, tlsKey, tlsCa));
      }
      return cb.build();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(command, e.getMessage(), e);
    }
  }
}
