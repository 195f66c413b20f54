package io.libkv;

import io.libkv.spi.StoreProvider;
import io.libkv.store.Backend;
import io.libkv.store.BackendNotSupportedException;
import io.libkv.store.Config;
import io.libkv.store.Store;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * The entry point: opens a {@link Store} of any backend whose module is on the class path.
 *
 * <pre>{@code
 * try (Store store = LibKV.newStore(Backend.LMDB, List.of(), Config.builder().dataDir(dir).build())) {
 *   store.put("config/db/url", "jdbc:...".getBytes(UTF_8), null);
 * }
 * }</pre>
 *
 * <p>Backends are found with {@link ServiceLoader} ({@link StoreProvider}), so an application pulls
 * in only the modules it uses.
 */
public final class LibKV {
  private LibKV() {}

  /**
   * Opens a store.
   *
   * @param backend which backend
   * @param endpoints the servers or peers, in the form the backend documents (for example {@code
   *     127.0.0.1:2379} for etcd, {@code n1=127.0.0.1:7001} for an embedded peer); may be empty for
   *     a backend that needs none
   * @param config the configuration, or {@code null} for the defaults
   * @return an open store; close it to release its resources
   * @throws BackendNotSupportedException if no module for {@code backend} is on the class path
   * @throws IllegalArgumentException if the endpoints or the configuration are invalid for the
   *     backend
   * @throws io.libkv.store.NotReachableException if the backend's servers cannot be reached within
   *     the connection timeout
   */
  public static Store newStore(Backend backend, List<String> endpoints, Config config) {
    Objects.requireNonNull(backend, "backend");
    List<String> eps = List.copyOf(endpoints == null ? List.of() : endpoints);
    StoreProvider provider = providers().get(backend);
    if (provider == null) {
      throw new BackendNotSupportedException(backend, availableBackends());
    }
    return provider.open(eps, Config.orDefaults(config));
  }

  /** Returns the backends whose modules are on the class path. */
  public static Set<Backend> availableBackends() {
    Map<Backend, StoreProvider> found = providers();
    return found.isEmpty() ? EnumSet.noneOf(Backend.class) : EnumSet.copyOf(found.keySet());
  }

  private static Map<Backend, StoreProvider> providers() {
    Map<Backend, StoreProvider> found = new EnumMap<>(Backend.class);
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    if (loader == null) {
      loader = LibKV.class.getClassLoader();
    }
    for (StoreProvider p : ServiceLoader.load(StoreProvider.class, loader)) {
      found.putIfAbsent(p.backend(), p);
    }
    if (loader != LibKV.class.getClassLoader()) {
      for (StoreProvider p :
          ServiceLoader.load(StoreProvider.class, LibKV.class.getClassLoader())) {
        found.putIfAbsent(p.backend(), p);
      }
    }
    return found;
  }
}
