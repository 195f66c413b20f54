package io.libkv.storage.engine;

import io.libkv.store.StoreException;

/**
 * A watch or history read asked for changes older than the bounded revision history still holds.
 */
public final class HistoryCompactedException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final long requestedAfter;
  private final long historyFloor;

  /**
   * Creates the error.
   *
   * @param requestedAfter the revision after which changes were asked for
   * @param historyFloor changes after this revision are still available
   */
  public HistoryCompactedException(long requestedAfter, long historyFloor) {
    super(
        "Revision history no longer reaches back to index "
            + requestedAfter
            + ": the oldest revision available is "
            + (historyFloor + 1)
            + " (resume with an afterIndex of at least "
            + historyFloor
            + ")");
    this.requestedAfter = requestedAfter;
    this.historyFloor = historyFloor;
  }

  /** The revision after which changes were asked for. */
  public long requestedAfter() {
    return requestedAfter;
  }

  /** The oldest revision still available is {@code historyFloor() + 1}. */
  public long historyFloor() {
    return historyFloor;
  }

  /** The oldest revision still available. */
  public long oldestAvailable() {
    return historyFloor + 1;
  }
}
