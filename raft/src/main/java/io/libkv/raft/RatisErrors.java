package io.libkv.raft;

import io.libkv.store.NotReachableException;
import io.libkv.store.PermissionDeniedException;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.RetryPolicy;

/** The one place where Ratis' exceptions become this project's {@link StoreException}s. */
final class RatisErrors {
  private RatisErrors() {}

  // Ratis wraps a state machine's refusal as "<exception class> from Server <member>: <reason>",
  // once or more; the reason is what the caller can act on.
  private static final java.util.regex.Pattern SERVER_PREFIX =
      java.util.regex.Pattern.compile("^[\\w.$]+ from Server [^:]+: ");

  /** The reason inside a {@link StateMachineException}'s message, without Ratis' prefixes. */
  static String stateMachineReason(String message) {
    if (message == null) {
      return "no reason given";
    }
    String m = message;
    java.util.regex.Matcher x;
    while ((x = SERVER_PREFIX.matcher(m)).find()) {
      m = m.substring(x.end());
    }
    return m;
  }

  /**
   * The refusal of a permission somewhere in {@code t}'s causes (a member closes an admin call it
   * refuses with the refusal's text), or {@code null}.
   */
  static PermissionDeniedException denied(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof PermissionDeniedException p) {
        return p;
      }
      java.util.Optional<PermissionDeniedException> p =
          PermissionDeniedException.fromMessage(c.getMessage());
      if (p.isPresent()) {
        return p.get();
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return null;
  }

  /**
   * {@code policy}, except that a call refused for want of a permission is not tried again: the
   * answer would not change.
   */
  static RetryPolicy notWhenDenied(RetryPolicy policy) {
    return event ->
        denied(event.getCause()) != null
            ? RetryPolicy.NO_RETRY_ACTION
            : policy.handleAttemptFailure(event);
  }

  /** Unwraps completion wrappers. */
  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /**
   * Returns what a TLS failure in {@code t}'s causes says, or {@code null} if there is none: a
   * failed handshake (untrusted or missing certificate, a plaintext peer) shows as an {@link
   * SSLException} somewhere below Ratis' and gRPC's wrappers.
   */
  static String tlsRefusal(Throwable t) {
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    Deque<Throwable> todo = new ArrayDeque<>();
    todo.add(t);
    while (!todo.isEmpty()) {
      Throwable c = todo.poll();
      if (c == null || !seen.add(c)) {
        continue;
      }
      if (c instanceof SSLException) {
        return c.getClass().getSimpleName() + ": " + c.getMessage();
      }
      if (c.getCause() != null) {
        todo.add(c.getCause());
      }
      todo.addAll(Arrays.asList(c.getSuppressed()));
    }
    return null;
  }

  private static boolean causeSays(Throwable t, String text) {
    for (int depth = 0; t != null && depth < 20; t = t.getCause(), depth++) {
      if (String.valueOf(t.getMessage()).contains(text)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Maps a failure of a Raft request.
   *
   * @param endpoints the cluster's peers, for the message
   * @param what the operation, for the message
   */
  static RuntimeException map(Throwable failure, List<String> endpoints, String what) {
    Throwable t = unwrap(failure);
    if (t instanceof StoreException s) {
      return s;
    }
    PermissionDeniedException denied = denied(t);
    if (denied != null) {
      return denied;
    }
    if (t instanceof IllegalArgumentException i) {
      return i;
    }
    if (t instanceof StateMachineException) {
      return new StoreException(
          what + " failed in the state machine: " + stateMachineReason(t.getMessage()), t);
    }
    // Every RaftException (not leader, retries exhausted, read index failed, closed, group
    // mismatch) is an IOException: the group did not answer in time.
    if (t instanceof IOException || t instanceof CancellationException) {
      String tls = tlsRefusal(t);
      if (tls != null) {
        return tlsRefused(endpoints, what, tls, t);
      }
      if (causeSays(t, "Network closed for unknown reason")) {
        // gRPC's words when the server hangs up during the handshake: a TLS member does that
        // to a plaintext client.
        return new NotReachableException(
            endpoints,
            what
                + " got no answer from the Raft group: the members closed the connection without"
                + " answering, as a member with TLS does to a client without it (if the cluster"
                + " uses TLS, give this store Config.tls with TlsFiles too): "
                + t.getMessage(),
            t);
      }
      return new NotReachableException(
          endpoints, what + " got no answer from the Raft group: " + t.getMessage(), t);
    }
    if (t instanceof TimeoutException) {
      return new NotReachableException(
          endpoints,
          what + " got no answer from the Raft group in time (for a write, the outcome is unknown)",
          t);
    }
    return new StoreException(what + " failed: " + t, t);
  }

  /** The error for a call that TLS kept from the members, {@code why} saying how. */
  static NotReachableException tlsRefused(
      List<String> endpoints, String what, String why, Throwable cause) {
    return new NotReachableException(
        endpoints,
        what
            + " was refused by TLS ("
            + why
            + "): the members and this store need certificates from the same CA (Config.tls with"
            + " TlsFiles), and each member's certificate must name its host",
        cause);
  }

  /**
   * Maps a failure as {@link #map}; if the result is a bare "no answer", asks {@code probe} whether
   * TLS is the reason (blocking: call it from the caller's thread only).
   */
  static RuntimeException map(
      Throwable failure, List<String> endpoints, String what, TlsProbe probe) {
    RuntimeException mapped = map(failure, endpoints, what);
    if (!tlsMayExplain(mapped, probe)) {
      return mapped;
    }
    String why = probe.diagnose();
    return why == null ? mapped : tlsRefused(endpoints, what, why, failure);
  }

  /** As {@link #map(Throwable, List, String, TlsProbe)}, probing on a thread of its own. */
  static <T> CompletableFuture<T> mapAsync(
      Throwable failure, List<String> endpoints, String what, TlsProbe probe) {
    RuntimeException mapped = map(failure, endpoints, what);
    if (!tlsMayExplain(mapped, probe)) {
      return CompletableFuture.failedFuture(mapped);
    }
    return probe
        .diagnoseAsync()
        .thenCompose(
            why ->
                CompletableFuture.failedFuture(
                    why == null ? mapped : tlsRefused(endpoints, what, why, failure)));
  }

  private static boolean tlsMayExplain(RuntimeException mapped, TlsProbe probe) {
    return probe != null
        && mapped instanceof NotReachableException
        && !String.valueOf(mapped.getMessage()).contains("refused by TLS");
  }
}
