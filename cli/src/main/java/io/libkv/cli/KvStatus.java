package io.libkv.cli;

import io.libkv.store.CannotLockException;
import io.libkv.store.KeyExistsException;
import io.libkv.store.KeyModifiedException;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.NotReachableException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * The exit statuses of {@code ./libkv kv}, and the one mapping from what a store throws to them.
 * The numbers are part of the command line's interface (its help and the README list them): never
 * renumber.
 */
final class KvStatus {
  static final int OK = 0;
  static final int ERROR = 1;
  static final int USAGE = 2;
  static final int NOT_FOUND = 3;
  static final int CONFLICT = 4;
  static final int UNREACHABLE = 5;
  static final int DENIED = 6;

  /** A command interrupted while it waited (not a watch, for which that is the normal end). */
  static final int INTERRUPTED = 130;

  /** {@code lock}: the command could not be started (as a shell reports a missing command). */
  static final int CANNOT_RUN = 127;

  private KvStatus() {}

  /**
   * Returns the status for {@code failure}. Its causes count too: an unreachable server behind any
   * error is status 5, whatever the outer error; a bad argument only when it is the error itself.
   */
  static int of(Throwable failure) {
    List<Throwable> chain = new ArrayList<>();
    for (Throwable t = failure; t != null && chain.size() < 32; t = t.getCause()) {
      chain.add(t);
    }
    if (chain.stream().anyMatch(t -> t instanceof NotReachableException)) {
      return UNREACHABLE;
    }
    for (Throwable t : chain) {
      if (t instanceof io.libkv.store.PermissionDeniedException) {
        return DENIED;
      }
      if (t instanceof KeyNotFoundException) {
        return NOT_FOUND;
      }
      if (t instanceof KeyModifiedException
          || t instanceof KeyExistsException
          || t instanceof CannotLockException) {
        return CONFLICT;
      }
    }
    return failure instanceof IllegalArgumentException ? USAGE : ERROR;
  }

  /**
   * Prints {@code failure} on {@code err} after {@code command}: its message's first line, or with
   * {@code verbose} the whole error and its causes. Returns its status.
   */
  static int report(String command, Throwable failure, boolean verbose, PrintWriter err) {
    int status = of(failure);
    String message = failure.getMessage() == null ? "" : failure.getMessage().strip();
    if (message.isEmpty() || status == ERROR) {
      // A generic error names its kind: the message alone may not say what failed.
      message = failure.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
    }
    int eol = message.indexOf('\n');
    if (eol >= 0 && !verbose) {
      // Some client libraries put a stack trace into their messages; --verbose shows it.
      message = message.substring(0, eol).stripTrailing() + " ... (--verbose shows the rest)";
    }
    err.println(command + ": " + message);
    if (verbose) {
      failure.printStackTrace(err);
    }
    err.flush();
    return status;
  }
}
