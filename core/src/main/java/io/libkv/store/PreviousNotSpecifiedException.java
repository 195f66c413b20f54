package io.libkv.store;

/**
 * An atomic delete was called without the previous pair (libkv's {@code ErrPreviousNotSpecified}).
 */
public class PreviousNotSpecifiedException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final String key;

  /** Creates the error for {@code key}. */
  public PreviousNotSpecifiedException(String key) {
    super("Previous K/V pair should be provided for the Atomic operation: " + key);
    this.key = key;
  }

  /** The key. */
  public String key() {
    return key;
  }
}
