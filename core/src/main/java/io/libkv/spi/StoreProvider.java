package io.libkv.spi;

import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import java.util.List;

/**
 * A backend's entry in the registry behind {@link io.libkv.LibKV#newStore}. Each backend module
 * lists one implementation in {@code META-INF/services/io.libkv.spi.StoreProvider}.
 */
public interface StoreProvider {

  /** The backend this provider opens. */
  Backend backend();

  /**
   * Opens a store.
   *
   * @param endpoints an immutable list, possibly empty
   * @param config never {@code null}
   * @throws IllegalArgumentException if the endpoints or the configuration are invalid
   * @throws io.libkv.store.NotReachableException if the servers cannot be reached in time
   */
  Store open(List<String> endpoints, Config config);
}
