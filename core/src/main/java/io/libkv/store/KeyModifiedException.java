package io.libkv.store;

/**
 * An atomic operation found the key at another index than the caller's (libkv's {@code
 * ErrKeyModified}).
 */
public class KeyModifiedException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final String key;
  private final long expectedIndex;
  private final long actualIndex;

  /**
   * Creates the error.
   *
   * @param actualIndex the stored index, or 0 when the backend does not report it
   */
  public KeyModifiedException(String key, long expectedIndex, long actualIndex) {
    super(
        "Unable to complete atomic operation, key modified: "
            + key
            + " (expected index "
            + expectedIndex
            + (actualIndex > 0 ? ", found " + actualIndex : "")
            + ")");
    this.key = key;
    this.expectedIndex = expectedIndex;
    this.actualIndex = actualIndex;
  }

  /** The key. */
  public String key() {
    return key;
  }

  /** The index the caller expected. */
  public long expectedIndex() {
    return expectedIndex;
  }

  /** The index that was stored, or 0 when the backend does not report it. */
  public long actualIndex() {
    return actualIndex;
  }
}
