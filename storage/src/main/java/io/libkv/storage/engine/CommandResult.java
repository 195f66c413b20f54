package io.libkv.storage.engine;

import io.libkv.store.KVPair;
import io.libkv.store.KeyExistsException;
import io.libkv.store.KeyModifiedException;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.PreviousNotSpecifiedException;
import io.libkv.store.StoreException;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of one {@link Command}: a success, or a domain error returned as a value (a failed
 * compare-and-set does not abort the other commands of its batch). {@link #toException()} turns an
 * error into the {@link StoreException} the Store API throws.
 */
public sealed interface CommandResult
    permits CommandResult.Written,
        CommandResult.Deleted,
        CommandResult.LeaseGranted,
        CommandResult.LeaseKept,
        CommandResult.Enqueued,
        CommandResult.KeyNotFound,
        CommandResult.KeyModified,
        CommandResult.KeyExists,
        CommandResult.PreviousNotSpecified,
        CommandResult.LeaseNotFound,
        CommandResult.Rejected,
        CommandResult.Failed,
        CommandResult.Skipped {

  /** Whether the command succeeded. */
  default boolean isOk() {
    return false;
  }

  /**
   * Returns the exception the Store API throws for this error.
   *
   * @throws IllegalStateException if this result is a success
   */
  default RuntimeException toException() {
    throw new IllegalStateException("not an error: " + this);
  }

  /**
   * A put succeeded at {@code revision}, the new pair's index. Only the revision: the writer knows
   * the key and value it sent, so a reply never carries them back.
   */
  record Written(long revision) implements CommandResult {
    @Override
    public boolean isOk() {
      return true;
    }
  }

  /**
   * Keys were deleted (possibly none, for {@link Command.DeleteTree} and {@link
   * Command.LeaseRevoke}).
   *
   * @param previous the pairs as they were before the deletion
   * @param revision the deleting revision
   */
  record Deleted(List<KVPair> previous, long revision) implements CommandResult {
    /** Copies the list. */
    public Deleted {
      previous = List.copyOf(previous);
    }

    @Override
    public boolean isOk() {
      return true;
    }
  }

  /** A lease exists now, with this id and TTL. */
  record LeaseGranted(long leaseId, long ttlMillis) implements CommandResult {
    @Override
    public boolean isOk() {
      return true;
    }
  }

  /** A lease was renewed. */
  record LeaseKept(long leaseId, long ttlMillis) implements CommandResult {
    @Override
    public boolean isOk() {
      return true;
    }
  }

  /**
   * A waiter joined a lock queue.
   *
   * @param leaseId the waiter's lease (equal to {@code revision})
   * @param waiterKey the internal waiter key
   * @param revision the waiter's create revision: its place in the queue, and its fencing token
   *     once it holds the lock
   * @param predecessorKey the waiter just before it, or {@code null} if it holds the lock now
   */
  record Enqueued(long leaseId, String waiterKey, long revision, String predecessorKey)
      implements CommandResult {
    /** Checks for nulls. */
    public Enqueued {
      Objects.requireNonNull(waiterKey, "waiterKey");
    }

    @Override
    public boolean isOk() {
      return true;
    }
  }

  /** The key does not exist. */
  record KeyNotFound(String key) implements CommandResult {
    @Override
    public RuntimeException toException() {
      return new KeyNotFoundException(key);
    }
  }

  /** The key is at another index than expected. */
  record KeyModified(String key, long expectedIndex, long actualIndex) implements CommandResult {
    @Override
    public RuntimeException toException() {
      return new KeyModifiedException(key, expectedIndex, actualIndex);
    }
  }

  /** A create-only put found the key. */
  record KeyExists(String key) implements CommandResult {
    @Override
    public RuntimeException toException() {
      return new KeyExistsException(key);
    }
  }

  /** A compare-and-delete came without an expected index. */
  record PreviousNotSpecified(String key) implements CommandResult {
    @Override
    public RuntimeException toException() {
      return new PreviousNotSpecifiedException(key);
    }
  }

  /** The lease does not exist (expired, revoked, or never granted). */
  record LeaseNotFound(long leaseId) implements CommandResult {
    @Override
    public RuntimeException toException() {
      return new StoreException("Lease not found: " + leaseId + " (expired or revoked)");
    }
  }

  /** The command was invalid (for example a key over the limit); nothing changed. */
  record Rejected(String reason) implements CommandResult {
    /** Checks for nulls. */
    public Rejected {
      Objects.requireNonNull(reason, "reason");
    }

    @Override
    public RuntimeException toException() {
      return new IllegalArgumentException(reason);
    }
  }

  /** The command could not be applied for a storage reason (the store is full); nothing changed. */
  record Failed(String reason) implements CommandResult {
    /** Checks for nulls. */
    public Failed {
      Objects.requireNonNull(reason, "reason");
    }

    @Override
    public RuntimeException toException() {
      return io.libkv.store.PermissionDeniedException.fromMessage(reason)
          .<RuntimeException>map(e -> e)
          .orElseGet(() -> new StoreException(reason));
    }
  }

  /**
   * The batch was not applied: its applied index was at or below the stored one (a re-apply after
   * restart), or it was a late copy of a call its client had finished with ({@link ClientCall}).
   */
  record Skipped(long storedAppliedIndex) implements CommandResult {
    @Override
    public RuntimeException toException() {
      return new StoreException(
          "Command skipped: already applied (stored applied index " + storedAppliedIndex + ")");
    }
  }
}
