package io.libkv.store;

/**
 * The root of every error a store reports. Unchecked; subclasses carry what the caller can act on
 * (the key, the expected and actual index, the backends present).
 */
public class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates an error with a message. */
  public StoreException(String message) {
    super(message);
  }

  /** Creates an error with a message and a cause. */
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
