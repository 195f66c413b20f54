package io.libkv.store;

/**
 * The kinds of store that {@link io.libkv.LibKV#newStore} can open. A backend is available only
 * when its module is on the class path (see {@link io.libkv.spi.StoreProvider}).
 */
public enum Backend {
  /** Consul's HTTP KV API (module {@code libkv-consul}). */
  CONSUL,
  /** etcd's v3 API through jetcd (module {@code libkv-etcd}). */
  ETCD,
  /** ZooKeeper through Curator (module {@code libkv-zookeeper}). */
  ZK,
  /** A local LMDB file store, the role BoltDB had in libkv (module {@code libkv-storage}). */
  LMDB,
  /**
   * An embedded Raft-replicated store over LMDB, run inside the application (module {@code
   * libkv-raft}).
   */
  EMBEDDED
}
