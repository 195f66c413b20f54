package io.libkv.bench;

import io.libkv.LibKV;
import io.libkv.store.AsyncStore;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.KeyExistsException;
import io.libkv.store.KeyModifiedException;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.Store;
import io.libkv.store.Watch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Drives one or more {@link Store}s of one backend; client threads are spread over the stores by
 * the runner (see {@link #forClient(int)}).
 */
final class StoreTarget implements Target {
  private final String name;
  private final List<Store> stores;
  private final Store store;

  /**
   * Opens {@code connections} stores of a client backend (20 s connection timeout) as one target;
   * closes what it opened if one fails.
   */
  static StoreTarget open(String name, Backend backend, List<String> endpoints, int connections) {
    return open(
        name,
        backend,
        endpoints,
        connections,
        Config.builder().connectionTimeout(Duration.ofSeconds(20)).build());
  }

  /** {@code connections} stores opened with {@code config}. */
  static StoreTarget open(
      String name, Backend backend, List<String> endpoints, int connections, Config config) {
    List<Store> stores = new ArrayList<>();
    try {
      for (int i = 0; i < Math.max(1, connections); i++) {
        stores.add(LibKV.newStore(backend, endpoints, config));
      }
      return new StoreTarget(name, stores);
    } catch (RuntimeException e) {
      stores.forEach(Store::close);
      throw e;
    }
  }

  StoreTarget(String name, List<Store> stores) {
    this(name, stores, stores.get(0));
  }

  private StoreTarget(String name, List<Store> stores, Store store) {
    this.name = Objects.requireNonNull(name, "name");
    this.stores = List.copyOf(stores);
    this.store = store;
  }

  @Override
  public StoreTarget forClient(int client) {
    return new StoreTarget(name, stores, stores.get(Math.floorMod(client, stores.size())));
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void put(String key, byte[] value) {
    store.put(key, value, null);
  }

  @Override
  public boolean pipelines() {
    return async(store) != null;
  }

  @Override
  public CompletableFuture<?> putAsync(String key, byte[] value) {
    AsyncStore a = async(store);
    if (a == null) {
      throw new UnsupportedOperationException(
          name + "'s store " + store.getClass().getName() + " does not implement AsyncStore");
    }
    return a.putAsync(key, value, null);
  }

  private static AsyncStore async(Store s) {
    Store real = s instanceof ForwardingStore f ? f.delegate() : s;
    return real instanceof AsyncStore a ? a : null;
  }

  @Override
  public boolean get(String key) {
    try {
      store.get(key);
      return true;
    } catch (KeyNotFoundException e) {
      return false;
    }
  }

  @Override
  public boolean cas(String key, byte[] value) {
    try {
      KVPair seen = store.get(key);
      store.atomicPut(key, value, seen, null);
      return true;
    } catch (KeyNotFoundException | KeyModifiedException | KeyExistsException e) {
      return false;
    }
  }

  @Override
  public Subscription watch(String key) {
    Watch<KVPair> w = store.watch(key);
    return new Subscription() {
      @Override
      public byte[] next(Duration timeout) throws InterruptedException {
        KVPair p = w.poll(timeout);
        return p == null ? null : p.value();
      }

      @Override
      public void close() {
        w.close();
      }
    };
  }

  @Override
  public void close() {
    RuntimeException first = null;
    for (Store s : stores) {
      try {
        s.close();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
