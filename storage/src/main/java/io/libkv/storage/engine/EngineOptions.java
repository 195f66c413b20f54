package io.libkv.storage.engine;

/**
 * How a {@link KvEngine} opens its LMDB environment. Immutable; build with {@link #builder()}.
 *
 * @param initialMapSizeBytes the LMDB map size to start with; the map grows by itself (doubling)
 *     when a write finds it full
 * @param historySize how many changes the revision history keeps (for {@code watch(key,
 *     afterIndex)}); older ones are dropped
 * @param sync whether every commit is flushed to disk (fsync); {@code false} sets {@code
 *     MDB_NOSYNC}: much faster, but the last commits may be lost (never corrupted) on an OS crash
 * @param maxReaders LMDB's reader table size; more concurrent reads than this wait for a slot
 * @param maxMapSizeBytes the map never grows past this (0 = no limit); when full, commands that add
 *     data fail with {@link CommandResult.Failed} ("store is full") while deletes still work. Page
 *     usage is not identical across replicas, so leave it at 0 for a replicated state machine
 */
public record EngineOptions(
    long initialMapSizeBytes, int historySize, boolean sync, int maxReaders, long maxMapSizeBytes) {

  /** The default initial map size, 64 MiB. */
  public static final long DEFAULT_MAP_SIZE = 64L << 20;

  /** The default reader table size, 1024 concurrent read transactions. */
  public static final int DEFAULT_MAX_READERS = 1024;

  /** The default history size, 10,000 changes. */
  public static final int DEFAULT_HISTORY_SIZE = 10_000;

  /** Checks the limits. */
  public EngineOptions {
    if (initialMapSizeBytes < (1L << 16)) {
      throw new IllegalArgumentException(
          "initial map size must be at least 65536 bytes, was " + initialMapSizeBytes);
    }
    if (historySize < 1) {
      throw new IllegalArgumentException("history size must be at least 1, was " + historySize);
    }
    if (maxReaders < 8) {
      throw new IllegalArgumentException("maxReaders must be at least 8, was " + maxReaders);
    }
    if (maxMapSizeBytes != 0 && maxMapSizeBytes < initialMapSizeBytes) {
      throw new IllegalArgumentException(
          "max map size ("
              + maxMapSizeBytes
              + " bytes) must be 0 (no limit) or at least the initial map size ("
              + initialMapSizeBytes
              + " bytes)");
    }
  }

  /** Returns the defaults: 64 MiB map, 10,000 changes of history, sync on, 1024 readers. */
  public static EngineOptions defaults() {
    return new EngineOptions(DEFAULT_MAP_SIZE, DEFAULT_HISTORY_SIZE, true, DEFAULT_MAX_READERS, 0);
  }

  /** Returns a builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link EngineOptions}. */
  public static final class Builder {
    private long initialMapSizeBytes = DEFAULT_MAP_SIZE;
    private int historySize = DEFAULT_HISTORY_SIZE;
    private boolean sync = true;
    private int maxReaders = DEFAULT_MAX_READERS;
    private long maxMapSizeBytes;

    private Builder() {}

    /** Sets the initial map size in bytes. */
    public Builder initialMapSizeBytes(long bytes) {
      this.initialMapSizeBytes = bytes;
      return this;
    }

    /** Sets how many changes the history keeps. */
    public Builder historySize(int changes) {
      this.historySize = changes;
      return this;
    }

    /** Sets whether commits are flushed to disk. */
    public Builder sync(boolean sync) {
      this.sync = sync;
      return this;
    }

    /** Sets the reader table size. */
    public Builder maxReaders(int readers) {
      this.maxReaders = readers;
      return this;
    }

    /** Sets the largest map size in bytes, 0 for no limit. */
    public Builder maxMapSizeBytes(long bytes) {
      this.maxMapSizeBytes = bytes;
      return this;
    }

    /** Returns the options. */
    public EngineOptions build() {
      return new EngineOptions(initialMapSizeBytes, historySize, sync, maxReaders, maxMapSizeBytes);
    }
  }
}
