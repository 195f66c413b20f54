package io.libkv.store;

import java.util.List;

/** The backend's servers could not be reached in time (libkv's {@code ErrNotReachable}). */
public class NotReachableException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final List<String> endpoints;

  /** Creates the error for the endpoints tried, with the cause. */
  public NotReachableException(List<String> endpoints, String detail, Throwable cause) {
    super("Api not reachable: " + endpoints + (detail == null ? "" : " (" + detail + ")"), cause);
    this.endpoints = List.copyOf(endpoints);
  }

  /** The endpoints that were tried. */
  public List<String> endpoints() {
    return endpoints;
  }
}
