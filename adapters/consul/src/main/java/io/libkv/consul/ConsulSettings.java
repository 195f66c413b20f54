package io.libkv.consul;

import io.libkv.store.Config;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLContext;

/**
 * What a Consul store reads from its endpoints and {@link Config}, checked once at open.
 *
 * @param endpoints base URLs without a trailing slash, e.g. {@code http://127.0.0.1:8500}
 * @param sslContext the TLS context, or {@code null} for plain HTTP
 * @param tokenOrNull the ACL token ({@link Config#password()}), or {@code null}
 * @param bearer whether the token goes in {@code Authorization: Bearer} rather than {@code
 *     X-Consul-Token}
 * @param datacenter the {@code dc} query parameter, or {@code null} for the agent's own
 * @param connectionTimeout how long a non-blocking request may take
 * @param watchWait the {@code wait} of blocking queries
 * @param lockDelay the {@code LockDelay} of lock sessions
 * @param maxValueBytes the value limit
 */
record ConsulSettings(
    List<String> endpoints,
    SSLContext sslContext,
    String tokenOrNull,
    boolean bearer,
    String datacenter,
    Duration connectionTimeout,
    Duration watchWait,
    Duration lockDelay,
    int maxValueBytes) {

  /** The address used when no endpoint is given: the local agent's default HTTP port. */
  static final String DEFAULT_ENDPOINT = "127.0.0.1:8500";

  static final String OPT_DATACENTER = "consul.datacenter";
  static final String OPT_TOKEN_HEADER = "consul.tokenHeader";
  static final String OPT_WATCH_WAIT = "consul.watchWait";
  static final String OPT_LOCK_DELAY = "consul.lockDelay";
  private static final Set<String> KNOWN =
      Set.of(OPT_DATACENTER, OPT_TOKEN_HEADER, OPT_WATCH_WAIT, OPT_LOCK_DELAY);

  static ConsulSettings from(List<String> endpoints, Config config) {
    for (Map.Entry<String, String> o : config.options().entrySet()) {
      if (o.getKey().startsWith("consul.") && !KNOWN.contains(o.getKey())) {
        throw new IllegalArgumentException(
            "unknown Consul option " + o.getKey() + "; known: " + KNOWN);
      }
    }
    boolean tls = config.tlsEnabled();
    List<String> bases = new ArrayList<>();
    for (String e : endpoints.isEmpty() ? List.of(DEFAULT_ENDPOINT) : endpoints) {
      bases.add(baseUrl(e, tls));
    }
    SSLContext ssl = config.sslContext().orElse(null);
    if (ssl == null && config.tlsFiles().isPresent()) {
      ssl = ConsulTls.context(config.tlsFiles().get());
    }
    String header = config.option(OPT_TOKEN_HEADER).orElse("x-consul-token");
    boolean bearer;
    switch (header.toLowerCase(Locale.ROOT)) {
      case "x-consul-token":
        bearer = false;
        break;
      case "bearer":
      case "authorization":
        bearer = true;
        break;
      default:
        throw new IllegalArgumentException(
            OPT_TOKEN_HEADER + " must be x-consul-token or bearer, was " + header);
    }
    Duration wait = duration(config, OPT_WATCH_WAIT, Duration.ofSeconds(30));
    if (wait.compareTo(Duration.ofSeconds(1)) < 0 || wait.compareTo(Duration.ofMinutes(10)) > 0) {
      throw new IllegalArgumentException(
          OPT_WATCH_WAIT + " must be between 1s and 10m (Consul's limit), was " + wait);
    }
    Duration lockDelay = duration(config, OPT_LOCK_DELAY, Duration.ofMillis(1));
    if (lockDelay.compareTo(Duration.ofMillis(1)) < 0
        || lockDelay.compareTo(Duration.ofSeconds(60)) > 0) {
      throw new IllegalArgumentException(
          OPT_LOCK_DELAY + " must be between 1ms and 60s, was " + lockDelay);
    }
    return new ConsulSettings(
        List.copyOf(bases),
        ssl,
        config.password().orElse(null),
        bearer,
        config.option(OPT_DATACENTER).orElse(null),
        config.connectionTimeout(),
        wait,
        lockDelay,
        config.maxValueBytes());
  }

  Optional<String> token() {
    return Optional.ofNullable(tokenOrNull);
  }

  String tokenHeader() {
    return bearer ? "Authorization" : "X-Consul-Token";
  }

  String tokenValue(String token) {
    return bearer ? "Bearer " + token : token;
  }

  private static Duration duration(Config config, String name, Duration dflt) {
    Optional<String> v = config.option(name);
    if (v.isEmpty()) {
      return dflt;
    }
    try {
      return io.libkv.spi.Durations.parse(v.get());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          name + " must be a duration like 500ms, 10s or 2m, was " + v.get(), e);
    }
  }

  private static String baseUrl(String endpoint, boolean tls) {
    String e = endpoint.strip();
    if (e.isEmpty()) {
      throw new IllegalArgumentException("empty Consul endpoint");
    }
    if (!e.contains("://")) {
      e = (tls ? "https://" : "http://") + e;
    }
    URI u;
    try {
      u = URI.create(e);
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException("invalid Consul endpoint " + endpoint, ex);
    }
    if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
      throw new IllegalArgumentException(
          "Consul endpoint must be host:port or an http(s) URL, was " + endpoint);
    }
    if (u.getHost() == null) {
      throw new IllegalArgumentException("Consul endpoint has no host: " + endpoint);
    }
    if ((u.getPath() != null && !u.getPath().isEmpty() && !u.getPath().equals("/"))
        || u.getQuery() != null) {
      throw new IllegalArgumentException(
          "Consul endpoint must not have a path or query (the adapter adds /v1/...): " + endpoint);
    }
    int port = u.getPort() < 0 ? 8500 : u.getPort();
    return u.getScheme() + "://" + u.getHost() + ":" + port;
  }
}
