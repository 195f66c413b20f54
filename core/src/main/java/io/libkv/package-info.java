/**
 * The entry point {@link io.libkv.LibKV}, which opens a {@link io.libkv.store.Store} of any backend
 * on the class path. Thread-safe.
 */
package io.libkv;
