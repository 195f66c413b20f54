package io.libkv.storage.engine;

import java.util.List;

/**
 * What one committed write transaction changed, as passed to {@link ApplyListener#onApplied}.
 *
 * @param appliedIndex the applied index now stored
 * @param lastRevision the highest revision now used
 * @param changes every key change, in revision order
 * @param leaseEvents every lease change, in revision order
 */
public record AppliedBatch(
    long appliedIndex, long lastRevision, List<ChangeEvent> changes, List<LeaseEvent> leaseEvents) {
  /** Copies the lists. */
  public AppliedBatch {
    changes = List.copyOf(changes);
    leaseEvents = List.copyOf(leaseEvents);
  }
}
