package io.libkv.storage.engine;

/**
 * Told about every committed write transaction of a {@link KvEngine}. Called on the thread that
 * called {@link KvEngine#apply} (the apply thread), after the commit and before {@code apply}
 * returns, so it must be quick and must never block: hand work to another thread. An exception
 * thrown here is logged and ignored.
 */
public interface ApplyListener {

  /** A write transaction committed. */
  void onApplied(AppliedBatch batch);

  /**
   * The engine's contents were replaced by {@link KvEngine#restoreFrom}; anything derived from the
   * old contents must be rebuilt.
   */
  default void onRestored(long appliedIndex, long lastRevision) {}
}
