package io.libkv.bench;

import java.util.Locale;

/** What each client does in a measured phase. */
enum Workload {
  /** Overwrites a random key of the key space with a fresh value. */
  PUT,
  /**
   * Overwrites random keys through {@link io.libkv.store.AsyncStore#putAsync}, each client keeping
   * several puts in flight; only for backends whose store implements {@code AsyncStore}.
   */
  PIPELINED_PUT,
  /** Reads a random key (linearizable where the backend offers it by default). */
  GET,
  /** Reads a random key, then writes it only if unchanged (a get and an atomicPut per op). */
  CAS,
  /** 90% get, 10% put, on random keys. */
  MIXED,
  /**
   * Each client watches one of a few hot keys while one writer updates them; the latency is from
   * the put call to the delivery of the event to the watcher.
   */
  WATCH;

  /** The percentage of MIXED operations that are reads. */
  static final int MIXED_READ_PERCENT = 90;

  String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  static Workload parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown workload '"
              + s
              + "', expected one of put, pipelined-put, get, cas, mixed, watch",
          e);
    }
  }
}
