package io.libkv.storage.engine;

import java.util.Arrays;
import java.util.Objects;

/**
 * A write the {@link KvEngine} applies: the unit a {@link CommandSubmitter} carries (through the
 * Raft log for the embedded backend, through the group-commit queue for LMDB) and {@link
 * CommandCodec} encodes.
 *
 * <p>Commands are plain data and applying them is deterministic: the engine reads no clock and no
 * random source, so every replica that applies the same commands with the same revisions ends in
 * the same state. Keys are expected in normalised form ({@link io.libkv.spi.Keys#normalize}) or,
 * for internal keys, starting with {@link KvEngine#INTERNAL_PREFIX}; the engine answers a command
 * it cannot apply (a key that is empty or too long, a negative TTL) with {@link
 * CommandResult.Rejected}, without changing anything.
 *
 * <p>A TTL in milliseconds ({@code ttlMillis > 0}) on a put attaches the key to a fresh lease whose
 * id is the put's revision; the lease ends with the key (overwrite or delete) or when a {@link
 * LeaseReaper} revokes it.
 */
public sealed interface Command
    permits Command.Put,
        Command.CasPut,
        Command.Delete,
        Command.CasDelete,
        Command.DeleteTree,
        Command.LeaseGrant,
        Command.LeaseKeepAlive,
        Command.LeaseRevoke,
        Command.LockEnqueue,
        Command.Refused,
        Command.SetAccessRules {

  /**
   * Whether applying this command can make the stored data larger: a put, a CAS put, a new lease or
   * a lock's place in a queue. What a full map, a low disk or a data cap refuses; everything else
   * (deletes, lease renewals and revocations) must still work then, to free space.
   */
  default boolean addsData() {
    return this instanceof Put
        || this instanceof CasPut
        || this instanceof LeaseGrant
        || this instanceof LockEnqueue;
  }

  /**
   * Stores a value, unconditionally.
   *
   * @param key the key
   * @param value the value, never {@code null} (may be empty)
   * @param leaseId a lease to attach the key to, 0 for none ({@link CommandResult.LeaseNotFound} if
   *     it does not exist)
   * @param ttlMillis greater than 0 to attach the key to a new lease of that TTL (then {@code
   *     leaseId} must be 0)
   */
  record Put(String key, byte[] value, long leaseId, long ttlMillis) implements Command {
    /** Checks for nulls. */
    public Put {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Put p
          && key.equals(p.key)
          && Arrays.equals(value, p.value)
          && leaseId == p.leaseId
          && ttlMillis == p.ttlMillis;
    }

    @Override
    public int hashCode() {
      return Objects.hash(key, Arrays.hashCode(value), leaseId, ttlMillis);
    }

    @Override
    public String toString() {
      return "Put["
          + key
          + ", "
          + value.length
          + " bytes, lease="
          + leaseId
          + ", ttl="
          + ttlMillis
          + "ms]";
    }
  }

  /**
   * Stores a value only if the key is at the expected index.
   *
   * @param expectedIndex the modification revision the key must have; 0 = create only (the key must
   *     not exist)
   */
  record CasPut(String key, byte[] value, long expectedIndex, long leaseId, long ttlMillis)
      implements Command {
    /** Checks for nulls. */
    public CasPut {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof CasPut p
          && key.equals(p.key)
          && Arrays.equals(value, p.value)
          && expectedIndex == p.expectedIndex
          && leaseId == p.leaseId
          && ttlMillis == p.ttlMillis;
    }

    @Override
    public int hashCode() {
      return Objects.hash(key, Arrays.hashCode(value), expectedIndex, leaseId, ttlMillis);
    }

    @Override
    public String toString() {
      return "CasPut["
          + key
          + ", "
          + value.length
          + " bytes, expected="
          + expectedIndex
          + ", lease="
          + leaseId
          + ", ttl="
          + ttlMillis
          + "ms]";
    }
  }

  /** Deletes one key ({@link CommandResult.KeyNotFound} if absent). */
  record Delete(String key) implements Command {
    /** Checks for nulls. */
    public Delete {
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * Deletes one key only if it is at the expected index; {@code expectedIndex <= 0} gives {@link
   * CommandResult.PreviousNotSpecified}.
   */
  record CasDelete(String key, long expectedIndex) implements Command {
    /** Checks for nulls. */
    public CasDelete {
      Objects.requireNonNull(key, "key");
    }
  }

  /** Deletes {@code directory} and every key under {@code directory + "/"}; never fails. */
  record DeleteTree(String directory) implements Command {
    /** Checks for nulls. */
    public DeleteTree {
      Objects.requireNonNull(directory, "directory");
    }
  }

  /**
   * Creates a lease.
   *
   * @param leaseId the id, or 0 to let the engine use the command's revision (unique)
   * @param ttlMillis the time to live, greater than 0; the engine only stores it, expiry is the
   *     {@link LeaseReaper}'s job
   */
  record LeaseGrant(long leaseId, long ttlMillis) implements Command {}

  /** Renews a lease (the reaper restarts its full TTL); {@link CommandResult.LeaseNotFound}. */
  record LeaseKeepAlive(long leaseId) implements Command {}

  /** Ends a lease and deletes every key attached to it; {@link CommandResult.LeaseNotFound}. */
  record LeaseRevoke(long leaseId) implements Command {}

  /**
   * Joins the wait queue of a lock: grants a lease (id = this command's revision, TTL {@code
   * ttlMillis}) and creates the internal waiter key {@code queuePrefix + 16 hex digits of the
   * revision} attached to it, so waiters sort in arrival order. The result ({@link
   * CommandResult.Enqueued}) names the waiter just before it, if any.
   *
   * @param queuePrefix an internal prefix (starting with {@link KvEngine#INTERNAL_PREFIX}) unique
   *     to the lock's key
   */
  record LockEnqueue(String queuePrefix, long ttlMillis) implements Command {
    /** Checks for nulls. */
    public LockEnqueue {
      Objects.requireNonNull(queuePrefix, "queuePrefix");
    }
  }

  /**
   * A write that a Raft leader refused before the log, in place of the command it replaces (for
   * example a put while the leader's disk is low): it changes nothing and applies as {@link
   * CommandResult.Failed} with {@code reason} on every replica, so that the other commands of the
   * same log entry still apply and each caller learns its own outcome.
   *
   * @param reason the message the caller gets
   */
  record Refused(String reason) implements Command {
    /** Checks for nulls. */
    public Refused {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * Replaces the access rules kept with the data ({@link KvEngine#accessRules()}), only if they
   * were last set at {@code expectedRevision} (0: never set), so that two administrators' changes
   * do not undo each other; else the result is {@link CommandResult.KeyModified} naming {@link
   * KvEngine#ACCESS_RULES}. The engine stores the bytes as given: their meaning and validation
   * belong to the Raft module.
   *
   * @param rules the encoded rules; empty for none
   * @param expectedRevision the revision of the rules this change replaces
   */
  record SetAccessRules(byte[] rules, long expectedRevision) implements Command {
    /** Checks for nulls. */
    public SetAccessRules {
      Objects.requireNonNull(rules, "rules");
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof SetAccessRules s
          && Arrays.equals(rules, s.rules)
          && expectedRevision == s.expectedRevision;
    }

    @Override
    public int hashCode() {
      return Objects.hash(Arrays.hashCode(rules), expectedRevision);
    }

    @Override
    public String toString() {
      return "SetAccessRules[" + rules.length + " bytes, expected=" + expectedRevision + "]";
    }
  }
}
