package io.libkv.store;

/**
 * A watch asked to replay changes after an index that the backend's history no longer reaches back
 * to ({@link Store#watch(String, long)}): the changes between that index and the oldest one still
 * kept are gone, so the watch cannot promise that none is left out. Thrown by every backend that
 * keeps a history (EMBEDDED and LMDB, whose history holds a bounded number of changes; ETCD, whose
 * history ends at its compact revision); backends without one refuse the call with {@link
 * CallNotSupportedException} instead.
 *
 * <p>What the caller can do: read the current state and watch from there, or resume with an {@code
 * afterIndex} of at least {@code oldestAvailable() - 1} and accept that older changes are missed.
 */
public class HistoryCompactedException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final String key;
  private final long requestedAfter;
  private final long oldestAvailable;

  /**
   * Creates the error.
   *
   * @param key the key watched, or {@code null} where the history read served no single key
   * @param requestedAfter the index after which changes were asked for
   * @param oldestAvailable the lowest index from which changes are still kept, or {@code -1} if the
   *     backend did not tell
   */
  public HistoryCompactedException(String key, long requestedAfter, long oldestAvailable) {
    this(key, requestedAfter, oldestAvailable, null);
  }

  /**
   * Creates the error with the backend's own failure as its cause.
   *
   * @param key the key watched, or {@code null} where the history read served no single key
   * @param requestedAfter the index after which changes were asked for
   * @param oldestAvailable the lowest index from which changes are still kept, or {@code -1} if the
   *     backend did not tell
   * @param cause the backend's error, or {@code null}
   */
  public HistoryCompactedException(
      String key, long requestedAfter, long oldestAvailable, Throwable cause) {
    super(
        "History compacted: "
            + (key == null ? "changes" : "changes of " + key)
            + " after index "
            + requestedAfter
            + " are no longer kept"
            + (oldestAvailable >= 0
                ? "; the oldest index available is "
                    + oldestAvailable
                    + " (resume with an afterIndex of at least "
                    + Math.max(0, oldestAvailable - 1)
                    + ", or read the current state and watch from it)"
                : " (read the current state and watch from it)"),
        cause);
    this.key = key;
    this.requestedAfter = requestedAfter;
    this.oldestAvailable = oldestAvailable;
  }

  /** The key watched, or {@code null} where the history read served no single key. */
  public String key() {
    return key;
  }

  /** The index after which changes were asked for. */
  public long requestedAfter() {
    return requestedAfter;
  }

  /**
   * The lowest index from which changes are still kept (every change at or above it can be
   * replayed: resume with {@code afterIndex = oldestAvailable() - 1}), or {@code -1} if the backend
   * did not tell.
   */
  public long oldestAvailable() {
    return oldestAvailable;
  }
}
