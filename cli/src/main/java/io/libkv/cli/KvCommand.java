package io.libkv.cli;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code ./libkv kv}: the Store API from the command line, against any backend. Holds the
 * connection options (inherited by every subcommand, so they may come before or after its name),
 * opens one store per invocation and turns what the store throws into the exit status scripts rely
 * on ({@link KvStatus}).
 */
@Command(
    name = "kv",
    mixinStandardHelpOptions = true,
    description = {
      "Read, write, watch and lock keys of any libkv backend.",
      "Connection options may also come from the environment: LIBKV_BACKEND, LIBKV_ENDPOINTS,"
          + " LIBKV_USERNAME, LIBKV_PASSWORD.",
      "Text output by default; --json prints one JSON object per line (pairs as"
          + " {\"key\",\"value\",\"index\"}; a value that is not UTF-8 as \"valueBase64\")."
    },
    subcommands = {
      KvGetCommand.class,
      KvPutCommand.class,
      KvDeleteCommand.class,
      KvListCommand.class,
      KvCasCommand.class,
      KvWatchCommand.class,
      KvLockCommand.class
    },
    footerHeading = "%nExit status (every kv command):%n",
    footer = {
      "  0  success",
      "  1  any other error (the message on stderr says which)",
      "  2  usage: bad option, key or value",
      "  3  key not found",
      "  4  conflict: cas or del --prev-index found another index or value,",
      "     cas --create found the key, lock --wait ran out",
      "  5  the backend's servers were not reachable within --timeout",
      "  lock exits with its command's status."
    })
final class KvCommand implements Runnable {

  @Spec CommandSpec spec;

  @Option(
      names = "--backend",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:LIBKV_BACKEND}",
      converter = BackendConverter.class,
      paramLabel = "NAME",
      description = "embedded, etcd, zk, consul or lmdb.")
  Backend backend;

  @Option(
      names = "--endpoints",
      scope = ScopeType.INHERIT,
      split = ",",
      defaultValue = "${env:LIBKV_ENDPOINTS}",
      paramLabel = "ENDPOINT",
      description = {
        "Comma-separated servers: HOST:PORT for etcd, zk and consul; every member as ID=HOST:PORT"
            + " for embedded (opened as a client; it stores nothing here)."
      })
  List<String> endpoints;

  @Option(
      names = "--data-dir",
      scope = ScopeType.INHERIT,
      paramLabel = "DIR",
      description = "The store's directory, for --backend lmdb (one process at a time).")
  Path dataDir;

  @Option(
      names = "--timeout",
      scope = ScopeType.INHERIT,
      defaultValue = "10s",
      converter = DurationConverter.class,
      paramLabel = "DURATION",
      description =
          "How long to wait for the servers before giving up with status 5, e.g. 500ms, 10s, 2m"
              + " (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(
      names = "--tls-cert",
      scope = ScopeType.INHERIT,
      paramLabel = "FILE",
      description = "Client certificate chain (PEM), with --tls-key.")
  Path tlsCert;

  @Option(
      names = "--tls-key",
      scope = ScopeType.INHERIT,
      paramLabel = "FILE",
      description = "Client private key (unencrypted PKCS#8 PEM), with --tls-cert.")
  Path tlsKey;

  @Option(
      names = "--tls-ca",
      scope = ScopeType.INHERIT,
      paramLabel = "FILE",
      description =
          "CA certificate(s) that sign the servers' (PEM). Any --tls-* option turns TLS on;"
              + " embedded needs all three.")
  Path tlsCa;

  @Option(
      names = "--username",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:LIBKV_USERNAME}",
      paramLabel = "USER",
      description = "User name: etcd users, ZooKeeper digest auth.")
  String username;

  @Option(
      names = "--password",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:LIBKV_PASSWORD}",
      paramLabel = "PASSWORD",
      description =
          "Password for --username, or Consul's ACL token. Prefer the LIBKV_PASSWORD environment"
              + " variable: a command line is visible to other users.")
  String password;

  @Option(
      names = "--bucket",
      scope = ScopeType.INHERIT,
      paramLabel = "NAME",
      description = "A name space: a key prefix (etcd), root node (zk) or separate file (lmdb).")
  String bucket;

  @Option(
      names = "--option",
      scope = ScopeType.INHERIT,
      paramLabel = "NAME=VALUE",
      description =
          "A backend option (Config.option, e.g. embedded.reads=stale, zk.syncReads=false),"
              + " repeatable.")
  Map<String, String> options = Map.of();

  @Option(
      names = "--json",
      scope = ScopeType.INHERIT,
      description = "Print one JSON object per line instead of text.")
  boolean json;

  @Option(
      names = "--verbose",
      scope = ScopeType.INHERIT,
      description =
          "On failure print the whole error with its causes, and let the client libraries log"
              + " their warnings.")
  boolean verbose;

  /** Where {@code put -} and {@code cas -} read a value; tests replace it. */
  InputStream stdin = System.in;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * Silences libraries' logging for a kv command, which reports what went wrong itself in one line
   * on stderr: a client library retrying an unreachable server would otherwise print warnings and
   * stack traces before it. Must run before SLF4J's first logger; a user who configured logging
   * (the system properties below) keeps their settings.
   */
  static void quietLibraryLogging() {
    if (System.getProperty(SLF4J_DEFAULT_LEVEL) == null) {
      System.setProperty(SLF4J_DEFAULT_LEVEL, "off");
    }
    if (System.getProperty("java.util.logging.config.file") == null) {
      java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
      root.setLevel(java.util.logging.Level.OFF);
    }
  }

  private static final String SLF4J_DEFAULT_LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";

  /** What a subcommand does with the open store; returns its exit status. */
  @FunctionalInterface
  interface StoreAction {
    int run(Store store, KvOutput out) throws InterruptedException;
  }

  /**
   * Opens the store the options describe, runs {@code action} on it and closes it; returns the
   * action's status, or the status of what went wrong after printing it to {@code command}'s error
   * stream. Usage errors are thrown for picocli to report (status 2).
   */
  int run(CommandLine command, StoreAction action) {
    Config config = config(command);
    List<String> eps = endpoints(command);
    String name = command.getCommandSpec().qualifiedName();
    KvOutput out = new KvOutput(command.getOut(), json);
    try (Store store = LibKV.newStore(backend, eps, config)) {
      return action.run(store, out);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      command.getErr().println(name + ": interrupted");
      return KvStatus.INTERRUPTED;
    } catch (ParameterException e) {
      throw e;
    } catch (RuntimeException e) {
      return KvStatus.report(name, e, verbose, command.getErr());
    }
  }

  /**
   * Returns {@code text} as UTF-8, or standard input's bytes when it is {@code -}.
   *
   * @throws UncheckedIOException if standard input cannot be read
   */
  byte[] valueArgument(String text) {
    if (!text.equals("-")) {
      return text.getBytes(StandardCharsets.UTF_8);
    }
    try {
      return stdin.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the value from standard input", e);
    }
  }

  private List<String> endpoints(CommandLine command) {
    List<String> eps =
        endpoints == null ? List.of() : endpoints.stream().map(String::trim).toList();
    if (backend == Backend.LMDB) {
      if (!eps.isEmpty()) {
        throw new ParameterException(
            command, "--backend lmdb has no server: give --data-dir, not --endpoints");
      }
    } else if (eps.isEmpty() || eps.stream().anyMatch(String::isEmpty)) {
      throw new ParameterException(
          command,
          "--backend "
              + BackendConverter.name(backend)
              + " needs --endpoints (or LIBKV_ENDPOINTS), e.g. "
              + (backend == Backend.EMBEDDED
                  ? "n1=10.0.0.1:7001,n2=10.0.0.2:7001,n3=10.0.0.3:7001"
                  : "10.0.0.1:" + BackendConverter.defaultPort(backend)));
    }
    return eps;
  }

  private Config config(CommandLine command) {
    if (backend == null) {
      throw new ParameterException(
          command, "Missing --backend (or LIBKV_BACKEND): embedded, etcd, zk, consul or lmdb");
    }
    try {
      return buildConfig(command);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(command, e.getMessage(), e);
    }
  }

  private Config buildConfig(CommandLine command) {
    Config.Builder cb = Config.builder().connectionTimeout(positive(command, timeout));
    options.forEach(cb::option);
    if (backend == Backend.LMDB) {
      if (dataDir == null) {
        throw new ParameterException(command, "--backend lmdb needs --data-dir");
      }
      cb.dataDir(dataDir);
    } else if (dataDir != null) {
      throw new ParameterException(
          command,
          "--data-dir is for --backend lmdb; "
              + BackendConverter.name(backend)
              + " is reached through --endpoints");
    }
    if (tlsCert != null || tlsKey != null || tlsCa != null) {
      if ((tlsCert == null) != (tlsKey == null)) {
        throw new ParameterException(command, "--tls-cert and --tls-key go together");
      }
      cb.tls(new Config.TlsFiles(tlsCert, tlsKey, tlsCa));
    }
    if (username != null && !username.isEmpty()) {
      cb.username(username);
    }
    if (password != null && !password.isEmpty()) {
      cb.password(password);
    }
    if (bucket != null) {
      cb.bucket(bucket);
    }
    return cb.build();
  }

  private static Duration positive(CommandLine command, Duration d) {
    if (d.isZero() || d.isNegative()) {
      throw new ParameterException(command, "--timeout must be positive, was " + d);
    }
    return d;
  }

  /** Backend names as users type them: lower case, {@code zookeeper} for {@code zk} too. */
  static final class BackendConverter implements CommandLine.ITypeConverter<Backend> {
    @Override
    public Backend convert(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      switch (v) {
        case "embedded":
          return Backend.EMBEDDED;
        case "etcd":
          return Backend.ETCD;
        case "zk":
        case "zookeeper":
          return Backend.ZK;
        case "consul":
          return Backend.CONSUL;
        case "lmdb":
          return Backend.LMDB;
        default:
          throw new CommandLine.TypeConversionException(
              "'" + value + "' is not a backend: embedded, etcd, zk, consul or lmdb");
      }
    }

    static String name(Backend b) {
      return b.name().toLowerCase(Locale.ROOT);
    }

    static int defaultPort(Backend b) {
      switch (b) {
        case ETCD:
          return 2379;
        case ZK:
          return 2181;
        case CONSUL:
          return 8500;
        default:
          return 7001;
      }
    }
  }
}
