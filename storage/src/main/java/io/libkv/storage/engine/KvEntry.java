package io.libkv.storage.engine;

import io.libkv.store.KVPair;
import java.util.Arrays;
import java.util.Objects;

/**
 * A stored key as the engine keeps it.
 *
 * @param key the key
 * @param value the value, never {@code null}
 * @param createRevision the revision that created the key (since its last deletion)
 * @param modRevision the revision of its last write: the Store API's {@code lastIndex}
 * @param leaseId the lease it is attached to, 0 for none
 */
public record KvEntry(
    String key, byte[] value, long createRevision, long modRevision, long leaseId) {

  /** Checks for nulls. */
  public KvEntry {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
  }

  /** Returns the Store API's view of this entry. */
  public KVPair toPair() {
    return new KVPair(key, value, modRevision);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KvEntry e
        && key.equals(e.key)
        && Arrays.equals(value, e.value)
        && createRevision == e.createRevision
        && modRevision == e.modRevision
        && leaseId == e.leaseId;
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, Arrays.hashCode(value), createRevision, modRevision, leaseId);
  }

  @Override
  public String toString() {
    return "KvEntry["
        + key
        + ", "
        + value.length
        + " bytes, create="
        + createRevision
        + ", mod="
        + modRevision
        + ", lease="
        + leaseId
        + "]";
  }
}
