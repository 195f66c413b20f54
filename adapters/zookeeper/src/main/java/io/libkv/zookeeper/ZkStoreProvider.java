package io.libkv.zookeeper;

import io.libkv.spi.StoreProvider;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import java.util.List;

/**
 * The {@link Backend#ZK} entry of the libkv registry: opens a {@link Store} over a ZooKeeper
 * ensemble through Apache Curator. Applications do not call this class; {@link
 * io.libkv.LibKV#newStore} finds it with {@link java.util.ServiceLoader}.
 *
 * <p>Endpoints are {@code host:port} (default {@code 127.0.0.1:2181}); all of them form the connect
 * string. See the package documentation for the mapping and its limits.
 */
public final class ZkStoreProvider implements StoreProvider {

  /** Creates the provider; called by {@link java.util.ServiceLoader}. */
  public ZkStoreProvider() {}

  @Override
  public Backend backend() {
    return Backend.ZK;
  }

  /**
   * Opens a store.
   *
   * @throws IllegalArgumentException if an endpoint is not {@code host:port}, only one of username
   *     and password is set, or a {@code zk.*} option is unknown or invalid
   * @throws io.libkv.store.CallNotSupportedException if TLS is given as an {@code SSLContext}
   *     (ZooKeeper's client takes PEM files: {@code Config.tlsFiles})
   * @throws io.libkv.store.NotReachableException if no server answers within the connection timeout
   * @throws io.libkv.store.StoreException if the server refuses the digest credentials
   */
  @Override
  public Store open(List<String> endpoints, Config config) {
    return ZkStore.open(ZkSettings.of(endpoints, config));
  }
}
