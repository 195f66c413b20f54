package io.libkv.raft;

import io.libkv.spi.StoreProvider;
import io.libkv.storage.engine.SharedByDirectory;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code Backend.EMBEDDED} for {@link io.libkv.LibKV#newStore}: a Raft cluster (Apache Ratis) whose
 * members keep the data in LMDB.
 *
 * <p><b>Endpoints</b> name every member as {@code id=host:port}, e.g. {@code
 * List.of("n1=127.0.0.1:7001", "n2=127.0.0.1:7002", "n3=127.0.0.1:7003")}.
 *
 * <p><b>With {@link Config#nodeId()}</b> (and {@link Config#dataDir()}, both required together) the
 * store runs that member inside this process, or shares it if this process already runs it (same
 * data directory); <b>the member stops when the last store opened on it this way closes</b>. For a
 * member whose lifetime the application controls, use {@link EmbeddedNode} instead: it is its own
 * handle, its stores are views of it, and only {@link EmbeddedNode#close()} stops it. Several
 * members may live in one JVM, each with its own node id and data directory. <b>Without a node
 * id</b> the store is a client of the cluster and stores nothing locally (see {@code ClientStores}:
 * reads are Raft queries, watches poll the cluster's history every 100 ms).
 *
 * <p><b>Options</b> ({@link Config.Builder#option}): {@code embedded.reads} ({@code linearizable}
 * default, or {@code stale}), {@code embedded.transport} ({@code auto} default: {@code netty}, or
 * {@code grpc} with TLS; {@code grpc}, {@code netty}), {@code embedded.group}, {@code
 * embedded.electionTimeoutMs} (default 1000), {@code embedded.snapshotThreshold} (default 10000
 * entries), {@code embedded.maxBatch} (default 4096 writes per entry), {@code embedded.maxInFlight}
 * (default 4 entries per node), {@code embedded.requestTimeoutMs} (default 3000). Unknown {@code
 * embedded.*} options are refused.
 *
 * <p><b>TLS</b>: {@link Config#tlsFiles()} (PEM certificate chain, PKCS#8 key, CA) on every member
 * and store makes every connection mutual TLS; a member or store with a certificate that does not
 * chain to the CA, or without TLS, is refused ({@link io.libkv.store.NotReachableException} "...
 * refused by TLS ..."). An {@code SSLContext}, or TLS with {@code embedded.transport=netty}, gives
 * {@link io.libkv.store.CallNotSupportedException}; unusable files give {@link
 * IllegalArgumentException} naming the file.
 *
 * <p><b>Credentials</b>: the cluster has no users; stores authenticate with client certificates
 * only. A {@link Config#username()} or {@link Config#password()} gives {@link
 * io.libkv.store.CallNotSupportedException} rather than being ignored, so that nobody believes a
 * password protects the cluster.
 *
 * <p>Public with a no-arg constructor for {@link java.util.ServiceLoader}.
 */
public final class EmbeddedStoreProvider implements StoreProvider {
  private static final SharedByDirectory<EmbeddedNode> NODES =
      new SharedByDirectory<>("EMBEDDED data directory");

  /** Creates the provider (ServiceLoader). */
  public EmbeddedStoreProvider() {}

  @Override
  public Backend backend() {
    return Backend.EMBEDDED;
  }

  @Override
  public Store open(List<String> endpoints, Config config) {
    Peers.parse(endpoints); // fail fast on bad endpoints
    if (config.nodeId().isEmpty()) {
      if (config.dataDir().isPresent()) {
        throw new IllegalArgumentException(
            "EMBEDDED: dataDir without nodeId; give a nodeId to run a member, or neither to be a"
                + " client of the cluster");
      }
      return ClientStores.open(endpoints, config);
    }
    Path dir =
        config
            .dataDir()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "EMBEDDED member " + config.nodeId().get() + " needs a dataDir"));
    String id = config.nodeId().get();
    Path key = NODES.realPath(dir);
    EmbeddedNode node =
        NODES.acquire(
            key,
            real -> EmbeddedNode.start(endpoints, config),
            running -> {
              if (!running.id().equals(id)) {
                throw new IllegalArgumentException(
                    "data directory "
                        + dir
                        + " is in use by member "
                        + running.id()
                        + " in this process");
              }
            });
    Runnable release =
        () -> {
          // Closed outside the registry's lock and off the closing store's own locks: the node
          // closes its stores.
          if (NODES.release(key, node, n -> {})) {
            node.close();
          }
        };
    try {
      return node.openStore(release);
    } catch (RuntimeException e) {
      release.run();
      throw e;
    }
  }
}
