package io.libkv.raft;

import io.libkv.store.NotReachableException;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.ratis.protocol.exceptions.StateMachineException;

/** The one place where Ratis' exceptions become this project's {@link StoreException}s. */
final class RatisErrors {
  private RatisErrors() {}

  /** Unwraps completion wrappers. */
  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
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
    if (t instanceof IllegalArgumentException i) {
      return i;
    }
    if (t instanceof StateMachineException) {
      return new StoreException(what + " failed in the state machine: " + t.getMessage(), t);
    }
    // Every RaftException (not leader, retries exhausted, read index failed, closed, group
    // mismatch) is an IOException: the group did not answer in time.
    if (t instanceof IOException || t instanceof CancellationException) {
      return new NotReachableException(
          endpoints, what + " got no answer from the Raft group: " + t.getMessage(), t);
    }
    return new StoreException(what + " failed: " + t, t);
  }
}
