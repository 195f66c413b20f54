package io.libkv.raft;

import io.libkv.storage.engine.ClientCall;
import java.nio.file.Path;

/**
 * What {@link KvStateMachine} drives: the node's local copy of the data. Every method but {@link
 * #query} is called by Ratis' apply thread only; {@link #query} may run on any thread.
 */
interface ReplicatedState extends AutoCloseable {

  /** The index of the last log entry applied, 0 if none; persisted with the data. */
  long appliedIndex();

  /**
   * Applies the payload of log entry {@code logIndex} in one write transaction together with the
   * applied index. Does nothing (and returns the results as if applied, or an empty reply) when
   * {@code logIndex <= appliedIndex()}.
   *
   * @return the encoded results, one per command of the entry
   * @throws MalformedEntryException if the payload does not decode; nothing has changed then
   */
  default byte[] apply(long logIndex, byte[] payload) {
    return apply(logIndex, payload, null);
  }

  /**
   * As {@link #apply(long, byte[])}, exactly once per client call: a late copy of a call its client
   * had finished with ({@link ClientCall}) changes nothing but the applied index, and its results
   * are all skipped.
   *
   * @param call who sent the entry, or {@code null} for an entry outside any client session
   */
  byte[] apply(long logIndex, byte[] payload, ClientCall call);

  /**
   * Applies log entry {@code logIndex} whose payload {@link #validate} checked on this member (its
   * leader), without decoding it again; otherwise as {@link #apply(long, byte[])}.
   */
  default byte[] apply(long logIndex, Checked checked) {
    return apply(logIndex, checked, null);
  }

  /** As {@link #apply(long, Checked)}, exactly once per client call (see above). */
  byte[] apply(long logIndex, Checked checked, ClientCall call);

  /**
   * Checks, on the leader before an entry is appended, that every command of the payload is one a
   * store could have sent (decodes; keys in normal form; values within the limit). Stricter than
   * {@link #apply}, which must accept whatever reached the log.
   *
   * @return the payload as decoded, for {@link #apply(long, Checked)}
   * @throws MalformedEntryException naming what is wrong
   */
  Checked validate(byte[] payload);

  /**
   * A payload {@link #validate} checked and decoded: the leader applies it without decoding it a
   * second time (what reached the log is exactly its encoding).
   */
  interface Checked {}

  /**
   * On the leader, when its disk is low: the payload with every command that adds data (a put, a
   * CAS put, a lease grant, a lock enqueue) replaced by one that fails with {@code reason} and
   * changes nothing on any replica, so deletes, lease renewals and unlocks batched with them still
   * apply.
   *
   * @return {@code null} if no command adds data (the payload may go to the log as it is)
   * @throws MalformedEntryException if the payload does not decode
   */
  Refusal refuseGrowth(byte[] payload, String reason);

  /**
   * What {@link #refuseGrowth} made of a payload.
   *
   * @param payload the payload to log instead
   * @param nothingLeft whether the whole request can be refused with {@code reason} (the entry need
   *     not be logged at all)
   * @param reason what the caller is told when the whole request is refused
   */
  record Refusal(byte[] payload, boolean nothingLeft, String reason) {}

  /** The size of the live data in bytes (what {@code embedded.maxDataBytes} caps); any thread. */
  long liveDataBytes();

  /**
   * Serves a read-only request against the applied state, for a caller not checked.
   *
   * @throws MalformedEntryException if the request does not decode
   */
  default byte[] query(byte[] request) {
    return query(request, AccessRules.Caller.TRUSTED);
  }

  /**
   * Serves a read-only request of {@code caller} against the applied state: a key or prefix it may
   * not read is refused, and a page of every change holds only the changes of keys it may read.
   *
   * @throws MalformedEntryException if the request does not decode
   * @throws io.libkv.store.PermissionDeniedException if the caller may not read what it asks for
   */
  byte[] query(byte[] request, AccessRules.Caller caller);

  /** The access rules in force, as of the last applied entry; any thread. */
  AccessRules accessRules();

  /** The access rules as stored, with the revision that set them; any thread. */
  io.libkv.storage.engine.KvEngine.AccessRules storedAccessRules();

  /**
   * On the leader: the payload {@link #validate} checked with every command that {@code caller} may
   * not make under the rules in force replaced by one that fails with the refusal and changes
   * nothing (so the other callers' commands of a batch still apply); a request of one refused
   * command is refused whole.
   *
   * @return {@code null} if every command is allowed
   */
  Refusal refuseDenied(Checked checked, AccessRules.Caller caller);

  /** Whether a checked payload changes the access rules (it must travel in an access entry). */
  boolean changesAccessRules(Checked checked);

  /**
   * Writes a consistent copy of the data to {@code file} (which does not exist yet).
   *
   * @return the applied index contained in the copy
   */
  long snapshotTo(Path file);

  /**
   * The applied index stored in the copy {@code file}, read without copying it, or -1 if it cannot
   * be read that way.
   */
  long snapshotAppliedIndex(Path file);

  /** Replaces the data with the copy in {@code file}; returns the applied index it contains. */
  long restoreFrom(Path file);

  @Override
  void close();
}
