package io.libkv.consul;

import io.libkv.spi.StoreProvider;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import java.util.List;

/**
 * Opens {@link Backend#CONSUL} stores: the Store contract over a Consul agent's HTTP API. Listed in
 * {@code META-INF/services/io.libkv.spi.StoreProvider}; applications use {@link
 * io.libkv.LibKV#newStore}.
 *
 * <p>Endpoints are agent HTTP addresses, {@code host:port} or {@code http(s)://host:port} ({@code
 * 127.0.0.1:8500} when none is given); the next one is tried when one refuses the connection. See
 * the package documentation for the configuration it reads.
 */
public final class ConsulStoreProvider implements StoreProvider {

  /** Creates the provider; called by {@link java.util.ServiceLoader}. */
  public ConsulStoreProvider() {}

  @Override
  public Backend backend() {
    return Backend.CONSUL;
  }

  /**
   * Opens a store and checks that an agent answers {@code GET /v1/status/leader}.
   *
   * @throws IllegalArgumentException if an endpoint or option is invalid
   * @throws io.libkv.store.NotReachableException if no agent answers within the connection timeout
   */
  @Override
  public Store open(List<String> endpoints, Config config) {
    ConsulStore store = new ConsulStore(ConsulSettings.from(endpoints, config));
    try {
      store.ping();
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }
}
