package io.libkv.zookeeper;

import io.libkv.spi.Keys;
import io.libkv.store.Backend;
import io.libkv.store.CallNotSupportedException;
import io.libkv.store.Config;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The store's settings, read from the endpoints and {@link Config}.
 *
 * @param endpoints the servers as given
 * @param connectString Curator's connect string
 * @param root the znode under which user keys live
 * @param lockRoot the znode under which lock queues live, outside {@code root}
 * @param sessionTimeoutMs the store's session timeout
 * @param syncReads whether reads call {@code sync} first
 */
record ZkSettings(
    List<String> endpoints,
    String connectString,
    String root,
    String lockRoot,
    int sessionTimeoutMs,
    boolean syncReads,
    Config config) {

  /** The root when no bucket is configured. */
  static final String DEFAULT_ROOT = "/libkv";

  /** The default server when no endpoint is given. */
  static final String DEFAULT_ENDPOINT = "127.0.0.1:2181";

  static final String OPT_SESSION_TIMEOUT_MS = "zk.sessionTimeoutMs";
  static final String OPT_SYNC_READS = "zk.syncReads";

  static ZkSettings of(List<String> endpoints, Config config) {
    List<String> eps = endpoints.isEmpty() ? List.of(DEFAULT_ENDPOINT) : List.copyOf(endpoints);
    StringBuilder connect = new StringBuilder();
    for (String ep : eps) {
      String e = ep == null ? "" : ep.trim();
      int colon = e.lastIndexOf(':');
      if (e.isEmpty() || e.contains("/") || e.contains(",") || colon <= 0) {
        throw new IllegalArgumentException(
            "ZooKeeper endpoint must be host:port (no chroot; use Config.bucket), was \""
                + ep
                + "\"");
      }
      try {
        int port = Integer.parseInt(e.substring(colon + 1));
        if (port < 1 || port > 65535) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException nfe) {
        throw new IllegalArgumentException(
            "ZooKeeper endpoint port must be 1..65535, in \"" + ep + "\"", nfe);
      }
      if (connect.length() > 0) {
        connect.append(',');
      }
      connect.append(e);
    }
    if (config.sslContext().isPresent()) {
      throw new CallNotSupportedException(
          Backend.ZK,
          "TLS from an SSLContext",
          "the ZooKeeper client builds its TLS context from files; give Config.tls(TlsFiles)"
              + " with PEM files");
    }
    if (config.username().isPresent() != config.password().isPresent()) {
      throw new IllegalArgumentException(
          "ZooKeeper digest auth needs both Config.username and Config.password");
    }
    String root = "/" + config.bucket().map(Keys::normalize).orElse(DEFAULT_ROOT.substring(1));
    int sessionMs = 30_000;
    boolean sync = true;
    for (Map.Entry<String, String> o : config.options().entrySet()) {
      String name = o.getKey();
      String value = o.getValue().trim();
      if (name.equals(OPT_SESSION_TIMEOUT_MS)) {
        try {
          sessionMs = Integer.parseInt(value);
        } catch (NumberFormatException nfe) {
          sessionMs = -1;
        }
        if (sessionMs < 1000) {
          throw new IllegalArgumentException(
              OPT_SESSION_TIMEOUT_MS + " must be an integer of at least 1000, was " + value);
        }
      } else if (name.equals(OPT_SYNC_READS)) {
        if (!value.equals("true") && !value.equals("false")) {
          throw new IllegalArgumentException(
              OPT_SYNC_READS + " must be true or false, was " + value);
        }
        sync = Boolean.parseBoolean(value);
      } else if (name.startsWith("zk.")) {
        throw new IllegalArgumentException(
            "unknown ZooKeeper option "
                + name
                + " (known: "
                + OPT_SESSION_TIMEOUT_MS
                + ", "
                + OPT_SYNC_READS
                + ")");
      }
    }
    return new ZkSettings(eps, connect.toString(), root, root + ".locks", sessionMs, sync, config);
  }

  Duration connectionTimeout() {
    return config.connectionTimeout();
  }

  int connectionTimeoutMs() {
    return (int) Math.min(Integer.MAX_VALUE, config.connectionTimeout().toMillis());
  }
}
