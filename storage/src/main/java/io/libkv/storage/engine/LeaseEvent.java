package io.libkv.storage.engine;

/**
 * A change of a lease, passed to {@link ApplyListener}s (the {@link LeaseReaper} keeps its
 * deadlines with them).
 *
 * @param leaseId the lease
 * @param ttlMillis its time to live
 * @param kind what happened
 */
public record LeaseEvent(long leaseId, long ttlMillis, Kind kind) {
  /** What happened to a lease. */
  public enum Kind {
    /** Created (by a grant, a put with TTL, or a lock enqueue). */
    GRANTED,
    /** Renewed. */
    KEPT_ALIVE,
    /** Gone (revoked, or its key was overwritten or deleted for a key-TTL lease). */
    REVOKED
  }
}
