package io.libkv.bench;

/** A benchmark run that could not go on: a backend that did not start, a phase that failed. */
final class BenchException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  BenchException(String message) {
    super(message);
  }

  BenchException(String message, Throwable cause) {
    super(message, cause);
  }
}
