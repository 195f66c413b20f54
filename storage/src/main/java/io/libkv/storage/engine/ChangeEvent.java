package io.libkv.storage.engine;

import io.libkv.store.KVPair;
import java.util.Arrays;
import java.util.Objects;

/**
 * One change of one key, as kept in the engine's revision history and passed to {@link
 * ApplyListener}s.
 *
 * @param key the key (user or internal)
 * @param value the new value, or {@code null} for a deletion
 * @param revision the revision of the change (for a deletion, the deleting revision)
 * @param createRevision the key's create revision (for a deletion, the one it had)
 * @param leaseId the lease the key was attached to, 0 for none
 */
public record ChangeEvent(
    String key, byte[] value, long revision, long createRevision, long leaseId) {

  /** Checks for nulls. */
  public ChangeEvent {
    Objects.requireNonNull(key, "key");
  }

  /** Whether this change deleted the key. */
  public boolean isDeletion() {
    return value == null;
  }

  /** Returns the change as a watch event (a {@code null} value for a deletion). */
  public KVPair toPair() {
    return new KVPair(key, value, revision);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ChangeEvent e
        && key.equals(e.key)
        && Arrays.equals(value, e.value)
        && revision == e.revision
        && createRevision == e.createRevision
        && leaseId == e.leaseId;
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, Arrays.hashCode(value), revision, createRevision, leaseId);
  }

  @Override
  public String toString() {
    return "ChangeEvent["
        + key
        + (value == null ? " deleted" : " = " + value.length + " bytes")
        + " @"
        + revision
        + "]";
  }
}
