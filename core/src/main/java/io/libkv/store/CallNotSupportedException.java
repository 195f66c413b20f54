package io.libkv.store;

/**
 * The backend cannot honour this call or option (libkv's {@code ErrCallNotSupported}); the README
 * support table lists each such gap.
 */
public class CallNotSupportedException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final Backend backend;
  private final String call;

  /** Creates the error for {@code call} on {@code backend}, saying why. */
  public CallNotSupportedException(Backend backend, String call, String reason) {
    super(
        "The current call is not supported with this backend: "
            + call
            + " on "
            + backend
            + (reason == null ? "" : " (" + reason + ")"));
    this.backend = backend;
    this.call = call;
  }

  /** The backend. */
  public Backend backend() {
    return backend;
  }

  /** The call or option that is not supported. */
  public String call() {
    return call;
  }
}
