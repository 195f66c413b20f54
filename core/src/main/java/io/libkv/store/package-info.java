/**
 * The libkv-java Store API: one key-value contract over etcd, Consul, ZooKeeper, a local LMDB file
 * store and an embedded Raft cluster.
 *
 * <p>Open a store with {@link io.libkv.LibKV#newStore}. Every type here is thread-safe unless its
 * docs say otherwise; value types ({@link io.libkv.store.KVPair}, the options, {@link
 * io.libkv.store.Config}) are immutable.
 *
 * <p>Errors are unchecked and rooted in {@link io.libkv.store.StoreException}, one class per error
 * of libkv's {@code store.go}. Invalid arguments give {@link IllegalArgumentException} naming the
 * limit. No foreign type (lmdbjava, Ratis, jetcd, Curator) appears in this package.
 */
package io.libkv.store;
