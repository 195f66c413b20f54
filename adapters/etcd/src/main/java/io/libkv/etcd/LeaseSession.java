package io.libkv.etcd;

import io.etcd.jetcd.Lease;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.lease.LeaseTimeToLiveResponse;
import io.etcd.jetcd.options.LeaseOption;
import io.libkv.store.MonotonicClock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A lease owned by a lock: renewed in the background (a keep-alive every third of its TTL) until
 * released, closed, or the stop signal completes; {@link #lost()} completes when it is gone.
 *
 * <p>Renewal is measured with the store's clock from the moment each successful keep-alive was
 * sent: etcd expires the lease no earlier than that plus the TTL. So if no keep-alive succeeds for
 * a whole TTL the lock is reported lost (and the lease revoked, in case it still lives), before or
 * at the moment the server may have given it to another. After the stop signal the lease is asked
 * for its remaining time once the TTL has run out, and reported lost when etcd says it is gone.
 */
final class LeaseSession implements AutoCloseable {
  /** How often the session looks at its lease: the lateness of {@link #lost()} at most. */
  private static final long MAX_PERIOD_MS = 250;

  private final EtcdStore store;
  private final Lease lease;
  private final MonotonicClock clock;
  private final long leaseId;
  private final long ttlNs;
  private final long renewAfterNs;
  private final CompletableFuture<Void> lost = new CompletableFuture<>();
  private final ScheduledFuture<?> task;
  private volatile long lastRenewedNs;
  private volatile boolean renewing = true;
  private volatile boolean inFlight;

  LeaseSession(
      EtcdStore store, long leaseId, long ttlSeconds, long grantedAtNs, CompletionStage<?> stop) {
    this.store = store;
    this.lease = store.client().getLeaseClient();
    this.clock = store.clock();
    this.leaseId = leaseId;
    this.ttlNs = TimeUnit.SECONDS.toNanos(ttlSeconds);
    this.lastRenewedNs = grantedAtNs;
    this.renewAfterNs = ttlNs / 3;
    long periodMs = Math.min(MAX_PERIOD_MS, TimeUnit.SECONDS.toMillis(ttlSeconds) / 3);
    this.task =
        store
            .scheduler()
            .scheduleWithFixedDelay(this::tick, periodMs, periodMs, TimeUnit.MILLISECONDS);
    if (stop != null) {
      stop.whenComplete((v, t) -> renewing = false);
    }
  }

  long leaseId() {
    return leaseId;
  }

  CompletableFuture<Void> lost() {
    return lost;
  }

  private void tick() {
    if (lost.isDone()) {
      return;
    }
    long now = clock.nanoTime();
    long sinceRenewalNs = now - lastRenewedNs;
    if (renewing && sinceRenewalNs >= ttlNs) {
      // No keep-alive got through for a whole TTL: the server may have expired the lease.
      markLost();
      return;
    }
    if (inFlight) {
      return;
    }
    if (!renewing) {
      if (sinceRenewalNs >= ttlNs) {
        checkExpired();
      }
      return;
    }
    if (sinceRenewalNs < renewAfterNs) {
      return;
    }
    inFlight = true;
    long remainingNs = lastRenewedNs + ttlNs - now;
    lease
        .keepAliveOnce(leaseId)
        .orTimeout(Math.min(remainingNs, store.errors().timeout().toNanos()), TimeUnit.NANOSECONDS)
        .whenComplete(
            (LeaseKeepAliveResponse r, Throwable t) -> {
              inFlight = false;
              if (t == null && r.getTTL() > 0) {
                lastRenewedNs = Math.max(lastRenewedNs, now);
              } else if (t != null && EtcdErrors.isLeaseGone(t)) {
                markLost();
              }
            });
  }

  private void checkExpired() {
    inFlight = true;
    lease
        .timeToLive(leaseId, LeaseOption.DEFAULT)
        .orTimeout(store.errors().timeout().toNanos(), TimeUnit.NANOSECONDS)
        .whenComplete(
            (LeaseTimeToLiveResponse r, Throwable t) -> {
              inFlight = false;
              if (t != null || r.getTTL() < 0) {
                // Gone, or the server cannot say: either way the holder must stop.
                markLost();
              } else if (r.getTTL() > 0) {
                // etcd extended it (e.g. a leader change refreshes leases): look again later.
                lastRenewedNs = clock.nanoTime() + TimeUnit.SECONDS.toNanos(r.getTTL()) - ttlNs;
              }
            });
  }

  private void markLost() {
    task.cancel(false);
    if (lost.complete(null)) {
      lease.revoke(leaseId).exceptionally(t -> null);
    }
    store.unregister(this);
  }

  /**
   * Stops renewing, completes {@link #lost()} and asks etcd to revoke the lease (which deletes the
   * keys attached to it); does not wait.
   *
   * @return the revocation, failed if etcd refused it (a lease already gone is fine)
   */
  CompletableFuture<Void> releaseAsync() {
    task.cancel(false);
    boolean first = lost.complete(null);
    store.unregister(this);
    if (!first) {
      return CompletableFuture.completedFuture(null);
    }
    return lease
        .revoke(leaseId)
        .<Void>thenApply(r -> null)
        .exceptionally(t -> EtcdErrors.isLeaseGone(t) ? null : rethrow(t));
  }

  /**
   * Revokes the lease and stops renewing, waiting for etcd at most {@code timeout}.
   *
   * @throws io.libkv.store.StoreException if etcd did not confirm; the lease then expires on its
   *     own
   */
  void release(Duration timeout) {
    store
        .errors()
        .await(
            releaseAsync(),
            timeout.toNanos(),
            "unlock (revoke lease " + Long.toHexString(leaseId) + ")");
  }

  private static <T> T rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      throw r;
    }
    throw new java.util.concurrent.CompletionException(t);
  }

  @Override
  public void close() {
    try {
      release(store.errors().timeout());
    } catch (RuntimeException e) {
      // Best effort on close: the lease expires on its own.
    }
  }
}
