package io.libkv.store;

/** Nothing is stored at the key (libkv's {@code ErrKeyNotFound}). */
public class KeyNotFoundException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final String key;

  /** Creates the error for {@code key}. */
  public KeyNotFoundException(String key) {
    super("Key not found in store: " + key);
    this.key = key;
  }

  /** The key that was not found. */
  public String key() {
    return key;
  }
}
