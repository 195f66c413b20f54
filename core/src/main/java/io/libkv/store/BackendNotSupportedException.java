package io.libkv.store;

import java.util.Set;

/**
 * No module for the requested backend is on the class path (libkv's {@code
 * ErrBackendNotSupported}).
 */
public class BackendNotSupportedException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final Backend backend;
  private final Set<Backend> available;

  /** Creates the error for {@code backend}, naming the backends that are present. */
  public BackendNotSupportedException(Backend backend, Set<Backend> available) {
    super(
        "Backend storage not supported yet, please choose one of "
            + available
            + " (requested "
            + backend
            + "; add its libkv module to the class path)");
    this.backend = backend;
    this.available = Set.copyOf(available);
  }

  /** The backend that was requested. */
  public Backend backend() {
    return backend;
  }

  /** The backends whose modules are present. */
  public Set<Backend> available() {
    return available;
  }
}
