package io.libkv.store;

import java.time.Duration;
import java.util.Objects;

/**
 * Options of a write: whether the key is a directory, and its time to live. Immutable.
 *
 * <p>A key written with a TTL is gone no later than {@code ttl} plus one second after its last put;
 * backends with a coarser resolution round up and say so in their docs. A TTL of {@link
 * Duration#ZERO} means no expiry.
 */
public final class WriteOptions {
  private static final WriteOptions NONE = new WriteOptions(false, Duration.ZERO);

  private final boolean isDir;
  private final Duration ttl;

  private WriteOptions(boolean isDir, Duration ttl) {
    this.isDir = isDir;
    this.ttl = ttl;
  }

  /** Returns options with no TTL that do not mark a directory. */
  public static WriteOptions none() {
    return NONE;
  }

  /**
   * Returns options with the given time to live.
   *
   * @throws IllegalArgumentException if {@code ttl} is negative
   */
  public static WriteOptions ttl(Duration ttl) {
    return new WriteOptions(false, checkTtl(ttl));
  }

  /** Returns options that mark the key as a directory (libkv's {@code IsDir}). */
  public static WriteOptions directory() {
    return new WriteOptions(true, Duration.ZERO);
  }

  /** Returns a copy of these options with the given TTL. */
  public WriteOptions withTtl(Duration ttl) {
    return new WriteOptions(isDir, checkTtl(ttl));
  }

  /** Returns a copy of these options with the directory flag set as given. */
  public WriteOptions withDir(boolean isDir) {
    return new WriteOptions(isDir, ttl);
  }

  /** Whether the key is written as a directory, for backends that distinguish them. */
  public boolean isDir() {
    return isDir;
  }

  /** The time to live, {@link Duration#ZERO} for none. */
  public Duration ttl() {
    return ttl;
  }

  /** Whether a time to live is set. */
  public boolean hasTtl() {
    return !ttl.isZero();
  }

  /** Returns {@code options}, or {@link #none()} when it is {@code null}. */
  public static WriteOptions orNone(WriteOptions options) {
    return options == null ? NONE : options;
  }

  private static Duration checkTtl(Duration ttl) {
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative()) {
      throw new IllegalArgumentException("ttl must not be negative, was " + ttl);
    }
    return ttl;
  }

  @Override
  public String toString() {
    return "WriteOptions[isDir=" + isDir + ", ttl=" + ttl + ']';
  }
}
