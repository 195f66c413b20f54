package io.libkv.store;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import javax.net.ssl.SSLContext;

/**
 * How to open a store: connection settings shared by the client backends, and what a local or
 * embedded backend needs (data directory, node id). Immutable; build with {@link #builder()}.
 *
 * <p>Backend-specific settings that have no field here are passed as string options ({@link
 * Builder#option(String, String)}); each backend documents the ones it reads and refuses unknown
 * values with {@link IllegalArgumentException}.
 */
public final class Config {
  /** The default value limit, 1 MiB. */
  public static final int DEFAULT_MAX_VALUE_BYTES = 1 << 20;

  /** The default connection timeout, 10 seconds. */
  public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(10);

  private final Duration connectionTimeout;
  private final SSLContext sslContext;
  private final TlsFiles tlsFiles;
  private final String bucket;
  private final boolean persistConnection;
  private final String username;
  private final String password;
  private final Path dataDir;
  private final String nodeId;
  private final int maxValueBytes;
  private final MonotonicClock clock;
  private final Map<String, String> options;

  private Config(Builder b) {
    this.connectionTimeout = b.connectionTimeout;
    this.sslContext = b.sslContext;
    this.tlsFiles = b.tlsFiles;
    this.bucket = b.bucket;
    this.persistConnection = b.persistConnection;
    this.username = b.username;
    this.password = b.password;
    this.dataDir = b.dataDir;
    this.nodeId = b.nodeId;
    this.maxValueBytes = b.maxValueBytes;
    this.clock = b.clock;
    this.options = Map.copyOf(b.options);
  }

  /** Returns a builder with the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the default configuration. */
  public static Config defaults() {
    return builder().build();
  }

  /** Returns {@code config}, or the defaults when it is {@code null}. */
  public static Config orDefaults(Config config) {
    return config == null ? defaults() : config;
  }

  /** Returns a builder that starts from this configuration. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.connectionTimeout = connectionTimeout;
    b.sslContext = sslContext;
    b.tlsFiles = tlsFiles;
    b.bucket = bucket;
    b.persistConnection = persistConnection;
    b.username = username;
    b.password = password;
    b.dataDir = dataDir;
    b.nodeId = nodeId;
    b.maxValueBytes = maxValueBytes;
    b.clock = clock;
    b.options.putAll(options);
    return b;
  }

  /** How long to wait for a server before {@link NotReachableException}. */
  public Duration connectionTimeout() {
    return connectionTimeout;
  }

  /** The TLS context to use, if one was given. */
  public Optional<SSLContext> sslContext() {
    return Optional.ofNullable(sslContext);
  }

  /** The PEM certificate, key and CA files to use for TLS, if given. */
  public Optional<TlsFiles> tlsFiles() {
    return Optional.ofNullable(tlsFiles);
  }

  /** Whether TLS was configured, by context or by files. */
  public boolean tlsEnabled() {
    return sslContext != null || tlsFiles != null;
  }

  /** The bucket (a name space, libkv's BoltDB bucket), if given. */
  public Optional<String> bucket() {
    return Optional.ofNullable(bucket);
  }

  /** Whether the client keeps its connection open between calls (libkv's PersistConnection). */
  public boolean persistConnection() {
    return persistConnection;
  }

  /** The user name for authentication, if given. */
  public Optional<String> username() {
    return Optional.ofNullable(username);
  }

  /** The password (or ACL token) for authentication, if given. */
  public Optional<String> password() {
    return Optional.ofNullable(password);
  }

  /** The data directory of a local or embedded store, if given. */
  public Optional<Path> dataDir() {
    return Optional.ofNullable(dataDir);
  }

  /** The id of the embedded member to run in this process, if any. */
  public Optional<String> nodeId() {
    return Optional.ofNullable(nodeId);
  }

  /** The largest value accepted, in bytes. */
  public int maxValueBytes() {
    return maxValueBytes;
  }

  /** The clock that TTLs and leases are measured with. */
  public MonotonicClock clock() {
    return clock;
  }

  /** Every backend-specific option, by name. */
  public Map<String, String> options() {
    return options;
  }

  /** Returns the backend-specific option {@code name}, if set. */
  public Optional<String> option(String name) {
    return Optional.ofNullable(options.get(name));
  }

  @Override
  public String toString() {
    return "Config[connectionTimeout="
        + connectionTimeout
        + ", tls="
        + tlsEnabled()
        + ", bucket="
        + bucket
        + ", username="
        + username
        + ", password="
        + (password == null ? "null" : "****")
        + ", dataDir="
        + dataDir
        + ", nodeId="
        + nodeId
        + ", maxValueBytes="
        + maxValueBytes
        + ", options="
        + new TreeMap<>(options)
        + ']';
  }

  /**
   * PEM files for TLS, as libkv's {@code ClientTLSConfig}.
   *
   * @param certFile the client certificate chain, or {@code null} for none
   * @param keyFile the client's PKCS#8 private key, or {@code null} for none
   * @param caFile the CA certificates that sign the servers', or {@code null} for the JDK's
   */
  public record TlsFiles(Path certFile, Path keyFile, Path caFile) {
    /** Checks that the certificate and key are given together. */
    public TlsFiles {
      if ((certFile == null) != (keyFile == null)) {
        throw new IllegalArgumentException("TLS certFile and keyFile must be given together");
      }
    }
  }

  /** Builds a {@link Config}. */
  public static final class Builder {
    private Duration connectionTimeout = DEFAULT_CONNECTION_TIMEOUT;
    private SSLContext sslContext;
    private TlsFiles tlsFiles;
    private String bucket;
    private boolean persistConnection;
    private String username;
    private String password;
    private Path dataDir;
    private String nodeId;
    private int maxValueBytes = DEFAULT_MAX_VALUE_BYTES;
    private MonotonicClock clock = MonotonicClock.SYSTEM;
    private final Map<String, String> options = new TreeMap<>();

    private Builder() {}

    /**
     * Sets how long to wait for a server.
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder connectionTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("connectionTimeout must be positive, was " + timeout);
      }
      this.connectionTimeout = timeout;
      return this;
    }

    /** Uses this TLS context for client connections. */
    public Builder tls(SSLContext context) {
      this.sslContext = Objects.requireNonNull(context, "context");
      return this;
    }

    /** Uses these PEM files for TLS. */
    public Builder tls(TlsFiles files) {
      this.tlsFiles = Objects.requireNonNull(files, "files");
      return this;
    }

    /** Sets the bucket name. */
    public Builder bucket(String bucket) {
      this.bucket = requireNonBlank(bucket, "bucket");
      return this;
    }

    /** Sets whether the client keeps its connection open between calls. */
    public Builder persistConnection(boolean persist) {
      this.persistConnection = persist;
      return this;
    }

    /** Sets the user name. */
    public Builder username(String username) {
      this.username = requireNonBlank(username, "username");
      return this;
    }

    /** Sets the password or token. */
    public Builder password(String password) {
      this.password = Objects.requireNonNull(password, "password");
      return this;
    }

    /** Sets the data directory of a local or embedded store. */
    public Builder dataDir(Path dir) {
      this.dataDir = Objects.requireNonNull(dir, "dir");
      return this;
    }

    /** Sets the id of the embedded member to run in this process. */
    public Builder nodeId(String nodeId) {
      this.nodeId = requireNonBlank(nodeId, "nodeId");
      return this;
    }

    /**
     * Sets the largest value accepted.
     *
     * @throws IllegalArgumentException if not between 1 byte and 64 MiB
     */
    public Builder maxValueBytes(int bytes) {
      if (bytes < 1 || bytes > (64 << 20)) {
        throw new IllegalArgumentException(
            "maxValueBytes must be between 1 and 67108864 (64 MiB), was " + bytes);
      }
      this.maxValueBytes = bytes;
      return this;
    }

    /** Sets the clock for TTLs and leases; tests pass a fake one. */
    public Builder clock(MonotonicClock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Sets a backend-specific option. */
    public Builder option(String name, String value) {
      options.put(requireNonBlank(name, "option name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Returns the configuration. */
    public Config build() {
      return new Config(this);
    }

    private static String requireNonBlank(String s, String what) {
      Objects.requireNonNull(s, what);
      if (s.isBlank()) {
        throw new IllegalArgumentException(what + " must not be blank");
      }
      return s;
    }
  }
}
