package io.libkv.store;

/** A lock could not be acquired, e.g. in the time given (libkv's {@code ErrCannotLock}). */
public class CannotLockException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final String key;

  /** Creates the error for {@code key}, saying why. */
  public CannotLockException(String key, String reason) {
    super("Error acquiring the lock: " + key + " (" + reason + ")");
    this.key = key;
  }

  /** Creates the error for {@code key}, with the cause. */
  public CannotLockException(String key, String reason, Throwable cause) {
    super("Error acquiring the lock: " + key + " (" + reason + ")", cause);
    this.key = key;
  }

  /** The lock's key. */
  public String key() {
    return key;
  }
}
