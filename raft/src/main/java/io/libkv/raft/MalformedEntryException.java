package io.libkv.raft;

/** A log entry or read request that does not decode; the state machine rejects it unchanged. */
final class MalformedEntryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  MalformedEntryException(String message, Throwable cause) {
    super(message, cause);
  }
}
