package io.libkv.store;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * Options of a lock: the value stored at the lock's key while it is held, the lease's time to live,
 * and an optional signal that stops background renewal (libkv's {@code RenewLock} channel).
 * Immutable; build with {@link #builder()}.
 */
public final class LockOptions {
  /** The default lease time to live, 15 seconds. */
  public static final Duration DEFAULT_TTL = Duration.ofSeconds(15);

  private static final byte[] EMPTY = new byte[0];
  private static final LockOptions DEFAULTS = builder().build();

  private final byte[] value;
  private final Duration ttl;
  private final CompletionStage<?> stopRenewal;

  private LockOptions(Builder b) {
    this.value = b.value;
    this.ttl = b.ttl;
    this.stopRenewal = b.stopRenewal;
  }

  /** Returns a builder with an empty value, the default TTL and renewal until unlock. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns {@code options}, or the defaults when it is {@code null}. */
  public static LockOptions orDefaults(LockOptions options) {
    return options == null ? DEFAULTS : options;
  }

  /** The value the lock's key holds while the lock is held; never {@code null}. */
  public byte[] value() {
    return value.clone();
  }

  /** The lease time to live; a holder that stops renewing loses the lock within ttl + 1 s. */
  public Duration ttl() {
    return ttl;
  }

  /**
   * The signal that stops background renewal when it completes, or {@code null} to renew until
   * {@link Locker#unlock()} or the store's close.
   */
  public CompletionStage<?> stopRenewal() {
    return stopRenewal;
  }

  /** Builds {@link LockOptions}. */
  public static final class Builder {
    private byte[] value = EMPTY;
    private Duration ttl = DEFAULT_TTL;
    private CompletionStage<?> stopRenewal;

    private Builder() {}

    /** Sets the value held at the lock's key while held; copied. */
    public Builder value(byte[] value) {
      this.value = Objects.requireNonNull(value, "value").clone();
      return this;
    }

    /**
     * Sets the lease time to live.
     *
     * @throws IllegalArgumentException if {@code ttl} is under one second
     */
    public Builder ttl(Duration ttl) {
      Objects.requireNonNull(ttl, "ttl");
      if (ttl.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("lock ttl must be at least 1s, was " + ttl);
      }
      this.ttl = ttl;
      return this;
    }

    /**
     * Sets a signal that stops the background renewal of the lease when it completes (normally or
     * exceptionally); the lock is then lost within ttl + 1 s unless unlocked first.
     */
    public Builder stopRenewal(CompletionStage<?> signal) {
      this.stopRenewal = Objects.requireNonNull(signal, "signal");
      return this;
    }

    /** Returns the options. */
    public LockOptions build() {
      return new LockOptions(this);
    }
  }
}
