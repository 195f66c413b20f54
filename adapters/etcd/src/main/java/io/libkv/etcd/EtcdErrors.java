package io.libkv.etcd;

import io.etcd.jetcd.common.exception.ClosedClientException;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.grpc.Status;
import io.libkv.store.NotReachableException;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The one place where jetcd and gRPC errors become {@link StoreException}s, and where every call to
 * etcd is bounded by the connection timeout.
 *
 * <p>Unavailable servers, missed deadlines and calls that got no answer within {@link
 * io.libkv.store.Config#connectionTimeout()} become {@link NotReachableException}; refused
 * credentials name the user; a compacted history names the compact revision; anything else is a
 * {@link StoreException} naming the call.
 */
final class EtcdErrors {
  private final List<String> endpoints;
  private final String username;
  private final Duration timeout;

  EtcdErrors(List<String> endpoints, String username, Duration timeout) {
    this.endpoints = List.copyOf(endpoints);
    this.username = username;
    this.timeout = timeout;
  }

  Duration timeout() {
    return timeout;
  }

  List<String> endpoints() {
    return endpoints;
  }

  /**
   * Waits for {@code future} at most the connection timeout.
   *
   * @param what the call and its key, for messages
   */
  <T> T await(CompletableFuture<T> future, String what) {
    return await(future, timeout.toNanos(), what);
  }

  /** Waits for {@code future} at most {@code timeoutNs}. */
  <T> T await(CompletableFuture<T> future, long timeoutNs, String what) {
    try {
      return future.get(Math.max(timeoutNs, 0), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new NotReachableException(endpoints, "no answer to " + what + " within " + timeout, e);
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw new StoreException("Interrupted while waiting for etcd: " + what, e);
    } catch (ExecutionException e) {
      throw map(e.getCause(), what);
    } catch (CancellationException e) {
      throw new StoreException("etcd call cancelled: " + what, e);
    }
  }

  /** Maps a failure of a jetcd call (or of a watch or lease stream) to a store error. */
  StoreException map(Throwable failure, String what) {
    Throwable t = unwrap(failure);
    if (t instanceof StoreException s) {
      return s;
    }
    if (t instanceof TimeoutException) {
      return new NotReachableException(endpoints, "no answer to " + what + " within " + timeout, t);
    }
    if (t instanceof CompactedException c) {
      return new StoreException(
          "etcd history is compacted: "
              + what
              + " needs revisions the server no longer keeps (compact revision "
              + c.getCompactedRevision()
              + ")",
          t);
    }
    if (t instanceof ClosedClientException) {
      return new StoreException("etcd store is closed: " + what, t);
    }
    ErrorCode code = code(t);
    String detail = describe(t);
    if (connectionLost(t)) {
      return new NotReachableException(endpoints, what + ": " + detail, t);
    }
    switch (code) {
      case UNAVAILABLE:
      case DEADLINE_EXCEEDED:
        return new NotReachableException(endpoints, what + ": " + detail, t);
      case UNAUTHENTICATED:
        // jetcd reports a failed login as UNAUTHENTICATED even when the login call itself could
        // not reach the server.
        if (causedByUnavailable(t)) {
          return new NotReachableException(endpoints, what + ": " + detail, t);
        }
        return refused(what, detail, t);
      case PERMISSION_DENIED:
        return refused(what, detail, t);
      default:
        if (detail.contains("authentication failed")
            || detail.contains("invalid auth token")
            || detail.contains("user name is empty")
            || detail.contains("permission denied")) {
          return refused(what, detail, t);
        }
        return new StoreException("etcd failed " + what + ": " + detail, t);
    }
  }

  /** The gRPC status code of a jetcd or gRPC failure. */
  static ErrorCode code(Throwable t) {
    if (t instanceof EtcdException e) {
      return e.getErrorCode();
    }
    return ErrorCode.valueOf(Status.fromThrowable(t).getCode().name());
  }

  /**
   * Whether a watch or lease stream that failed this way may work again on its own (the server or
   * the connection is back): unavailable, internal transport errors, missed deadlines, an expired
   * auth token.
   */
  static boolean isTransient(Throwable t) {
    if (t instanceof CompactedException) {
      return false;
    }
    ErrorCode c = code(t);
    return connectionLost(t)
        || c == ErrorCode.UNAVAILABLE
        || c == ErrorCode.INTERNAL
        || c == ErrorCode.DEADLINE_EXCEEDED
        || String.valueOf(t.getMessage()).contains("invalid auth token");
  }

  /** Whether etcd said the lease does not exist (expired or revoked). */
  static boolean isLeaseGone(Throwable failure) {
    Throwable t = unwrap(failure);
    return (t instanceof EtcdException e && e.getErrorCode() == ErrorCode.NOT_FOUND)
        || Status.fromThrowable(t).getCode() == Status.Code.NOT_FOUND
        || String.valueOf(t.getMessage()).contains("requested lease not found");
  }

  /** Whether a failure (raw or already mapped) says the revision asked for was compacted away. */
  static boolean isCompacted(Throwable failure) {
    int depth = 0;
    for (Throwable c = failure; c != null && depth < 8; c = c.getCause(), depth++) {
      if (c instanceof CompactedException
          || String.valueOf(c.getMessage()).contains("required revision has been compacted")) {
        return true;
      }
    }
    return false;
  }

  private static boolean causedByUnavailable(Throwable t) {
    int depth = 0;
    for (Throwable c = t.getCause(); c != null && depth < 8; c = c.getCause(), depth++) {
      Status.Code code = Status.fromThrowable(c).getCode();
      if (code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED) {
        return true;
      }
      if (c instanceof EtcdException e
          && (e.getErrorCode() == ErrorCode.UNAVAILABLE
              || e.getErrorCode() == ErrorCode.DEADLINE_EXCEEDED)) {
        return true;
      }
    }
    return false;
  }

  private StoreException refused(String what, String detail, Throwable t) {
    return new StoreException(
        "etcd at "
            + endpoints
            + " refused "
            + (username == null
                ? "an unauthenticated client (no username configured)"
                : "user \"" + username + "\"")
            + " for "
            + what
            + ": "
            + detail,
        t);
  }

  /**
   * Whether the call failed because its connection broke (the server died mid-call): gRPC reports
   * that as UNKNOWN "channel closed" or with an I/O error as the cause, not as UNAVAILABLE.
   */
  private static boolean connectionLost(Throwable t) {
    int depth = 0;
    for (Throwable c = t; c != null && depth < 8; c = c.getCause(), depth++) {
      if (c instanceof IOException) {
        return true;
      }
      String m = c.getMessage();
      if (m != null && m.contains("channel closed")) {
        return true;
      }
    }
    return false;
  }

  private static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  /** Joins the distinct messages of the cause chain: gRPC often hides the server's in a cause. */
  private static String describe(Throwable t) {
    StringBuilder b = new StringBuilder();
    String last = null;
    int depth = 0;
    for (Throwable c = t; c != null && depth < 6; c = c.getCause(), depth++) {
      String m = c.getMessage();
      if (m == null || m.isBlank() || (last != null && last.contains(m))) {
        continue;
      }
      if (b.length() > 0) {
        b.append(" <- ");
      }
      b.append(m);
      last = m;
    }
    return b.length() == 0 ? t.getClass().getSimpleName() : b.toString();
  }
}
