package io.libkv.store;

/** {@link Watch#take()} was called on, or woken by, a closed watch. */
public class WatchClosedException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** Creates the error, naming what was watched. */
  public WatchClosedException(String watched) {
    super("Watch closed: " + watched);
  }
}
