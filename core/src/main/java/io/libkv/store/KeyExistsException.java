package io.libkv.store;

/** An atomic create found the key already there (libkv's {@code ErrKeyExists}). */
public class KeyExistsException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final String key;

  /** Creates the error for {@code key}. */
  public KeyExistsException(String key) {
    super("Previous K/V pair exists, cannot complete Atomic operation: " + key);
    this.key = key;
  }

  /** The key. */
  public String key() {
    return key;
  }
}
