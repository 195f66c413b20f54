package io.libkv.raft;

import io.libkv.store.Config;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What starts one member from a command line: its id, the peers, its data directory, whether it
 * joins a running cluster, {@code embedded.*} options and its TLS files. The rules about them live
 * here once, for {@link EmbeddedNode#main} and for {@code ./libkv node}: the three TLS files go
 * together, an option is {@code NAME=VALUE}.
 *
 * @param peers every member, {@code id=host:port}
 * @param config the member's configuration (node id, data directory, options, TLS)
 * @param join whether the member starts empty, to be added to a running cluster ({@link
 *     EmbeddedNode#join})
 */
public record NodeOptions(List<String> peers, Config config, boolean join) {

  /** Copies the peers. */
  public NodeOptions {
    peers = List.copyOf(peers);
    Objects.requireNonNull(config, "config");
  }

  /**
   * Builds the options from flag values.
   *
   * @param options {@code embedded.*} (and other {@link Config}) options by name
   * @param tlsCert this member's certificate, or {@code null}; with {@code tlsKey} and {@code
   *     tlsCa}: mutual TLS
   * @throws IllegalArgumentException if a required value is missing or the TLS files are not all
   *     given
   */
  public static NodeOptions of(
      String id,
      List<String> peers,
      Path dataDir,
      boolean join,
      Map<String, String> options,
      Path tlsCert,
      Path tlsKey,
      Path tlsCa) {
    if (id == null) {
      throw new IllegalArgumentException("--id is required");
    }
    if (peers == null || peers.isEmpty()) {
      throw new IllegalArgumentException("--peers is required");
    }
    if (dataDir == null) {
      throw new IllegalArgumentException("--data-dir is required");
    }
    Config.Builder cb = Config.builder().nodeId(id).dataDir(dataDir);
    options.forEach(cb::option);
    if (tlsCert != null || tlsKey != null || tlsCa != null) {
      if (tlsCert == null || tlsKey == null || tlsCa == null) {
        throw new IllegalArgumentException("--tls-cert, --tls-key and --tls-ca go together");
      }
      cb.tls(new Config.TlsFiles(tlsCert, tlsKey, tlsCa));
    }
    return new NodeOptions(peers, cb.build(), join);
  }

  /**
   * Reads {@code --id ID --peers ID=HOST:PORT,... --data-dir DIR [--join] [--option NAME=VALUE]...
   * [--tls-cert CERT.pem --tls-key KEY.pem --tls-ca CA.pem]}.
   *
   * @throws IllegalArgumentException naming an unknown, incomplete or missing flag
   */
  public static NodeOptions parse(String[] args) {
    String id = null;
    List<String> peers = null;
    Path dataDir = null;
    boolean join = false;
    Map<String, String> options = new LinkedHashMap<>();
    Path tlsCert = null;
    Path tlsKey = null;
    Path tlsCa = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--id" -> id = value(args, ++i, a);
        case "--peers" -> peers = new ArrayList<>(List.of(value(args, ++i, a).split(",")));
        case "--data-dir" -> dataDir = Path.of(value(args, ++i, a));
        case "--join" -> join = true;
        case "--tls-cert" -> tlsCert = Path.of(value(args, ++i, a));
        case "--tls-key" -> tlsKey = Path.of(value(args, ++i, a));
        case "--tls-ca" -> tlsCa = Path.of(value(args, ++i, a));
        case "--option" -> {
          String kv = value(args, ++i, a);
          int eq = kv.indexOf('=');
          if (eq <= 0) {
            throw new IllegalArgumentException("--option needs NAME=VALUE, got " + kv);
          }
          options.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        default -> throw new IllegalArgumentException("unknown argument " + a);
      }
    }
    return of(id, peers, dataDir, join, options, tlsCert, tlsKey, tlsCa);
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }

  /**
   * Starts the member ({@link EmbeddedNode#start} or, for {@code join}, {@link EmbeddedNode#join}).
   */
  public EmbeddedNode start() {
    return join ? EmbeddedNode.join(peers, config) : EmbeddedNode.start(peers, config);
  }
}
