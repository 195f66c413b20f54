package io.libkv.raft;

import io.libkv.store.Config;
import io.libkv.store.Store;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension that starts an {@link EmbeddedCluster} (in a fresh temporary directory)
 * before a test class and stops it, deleting its data, after:
 *
 * <pre>{@code
 * class MyServiceTest {
 *   @RegisterExtension
 *   static final EmbeddedClusterExtension KV = EmbeddedClusterExtension.nodes(3);
 *
 *   @Test
 *   void works() {
 *     try (Store store = KV.openStore()) { ... }
 *   }
 * }
 * }</pre>
 *
 * <p>Register it on a {@code static} field. JUnit Jupiter must be on the test class path (this
 * module declares it optional).
 */
public final class EmbeddedClusterExtension implements BeforeAllCallback, AfterAllCallback {
  private final int nodes;
  private final Config config;
  private volatile Path dir;
  private volatile EmbeddedCluster cluster;

  private EmbeddedClusterExtension(int nodes, Config config) {
    if (nodes < 1) {
      throw new IllegalArgumentException("a cluster needs at least 1 member, was " + nodes);
    }
    this.nodes = nodes;
    this.config = Objects.requireNonNull(config, "config");
  }

  /** An extension starting {@code n} members with the default configuration. */
  public static EmbeddedClusterExtension nodes(int n) {
    return new EmbeddedClusterExtension(n, Config.defaults());
  }

  /** The same extension with this configuration for every member (clock, options, limits). */
  public EmbeddedClusterExtension withConfig(Config config) {
    return new EmbeddedClusterExtension(nodes, config);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    dir = Files.createTempDirectory("libkv-embedded-");
    cluster = EmbeddedCluster.builder().nodes(nodes).baseDir(dir).config(config).start();
    cluster.awaitLeader();
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    try {
      if (cluster != null) {
        cluster.close();
      }
    } finally {
      cluster = null;
      if (dir != null) {
        try (Stream<Path> s = Files.walk(dir)) {
          for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(p);
          }
        }
      }
    }
  }

  /**
   * The running cluster.
   *
   * @throws IllegalStateException outside the test class's lifetime
   */
  public EmbeddedCluster cluster() {
    EmbeddedCluster c = cluster;
    if (c == null) {
      throw new IllegalStateException("the embedded cluster runs only while its test class runs");
    }
    return c;
  }

  /** Opens a store on one of the members ({@link EmbeddedCluster#openStore()}). */
  public Store openStore() {
    return cluster().openStore();
  }

  /** The endpoints of the members, for {@code LibKV.newStore(Backend.EMBEDDED, ...)}. */
  public java.util.List<String> endpoints() {
    return cluster().endpoints();
  }
}
