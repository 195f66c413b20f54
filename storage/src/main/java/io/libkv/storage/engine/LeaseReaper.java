package io.libkv.storage.engine;

import io.libkv.store.MonotonicClock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.Agent;

/**
 * Expires leases: where it is in charge, it keeps a deadline per lease in memory (measured with an
 * injected {@link MonotonicClock}) and, when one passes, SUBMITS a {@link Command.LeaseRevoke}, so
 * expiry is an ordinary logged, deterministic command.
 *
 * <p>Only one reaper should be in charge for an engine's data: always the one of a local LMDB
 * store; for the embedded Raft backend the leader's ({@link #takeCharge()} on becoming leader,
 * {@link #resign()} on losing it). Taking charge gives every existing lease a full TTL from that
 * moment (etcd's rule: nothing expires early after a leader change). Grants and keep-alives reach
 * the reaper as {@link ApplyListener} events from the engine, wherever they were submitted.
 *
 * <p>Resolution: deadlines are checked every 50 ms, so a lease ends within its TTL plus about 50 ms
 * plus the time to apply the revoke. Thread-safe; runs as a {@link DutyCycle} on its own thread
 * ({@code libkv-lease-reaper-<name>}) until {@link #close()}.
 */
public final class LeaseReaper implements ApplyListener, AutoCloseable {
  private static final long CHECK_NS = TimeUnit.MILLISECONDS.toNanos(50);

  private final KvEngine engine;
  private final CommandSubmitter submitter;
  private final MonotonicClock clock;
  private final DutyCycle duty;
  private final Map<Long, Long> deadlines = new ConcurrentHashMap<>();
  private final Set<Long> revoking = ConcurrentHashMap.newKeySet();
  private volatile boolean inCharge;
  private volatile boolean closed;

  /**
   * Creates a reaper (not in charge yet) for the leases of {@code engine}, submitting revokes
   * through {@code submitter}, and starts its thread.
   */
  public LeaseReaper(
      KvEngine engine, CommandSubmitter submitter, MonotonicClock clock, String name) {
    this.engine = Objects.requireNonNull(engine, "engine");
    this.submitter = Objects.requireNonNull(submitter, "submitter");
    this.clock = Objects.requireNonNull(clock, "clock");
    engine.addListener(this);
    String role = "libkv-lease-reaper-" + name;
    this.duty =
        new DutyCycle(
            new Agent() {
              @Override
              public int doWork() {
                return expireDue();
              }

              @Override
              public String roleName() {
                return role;
              }
            },
            role,
            CHECK_NS);
  }

  /**
   * Takes charge of expiry: every lease stored now gets a full TTL from now. Idempotent (calling it
   * again restarts every TTL).
   */
  public void takeCharge() {
    inCharge = true;
    long now = clock.nanoTime();
    List<LeaseInfo> leases = engine.read(ReadView::leases);
    deadlines.clear();
    for (LeaseInfo l : leases) {
      deadlines.put(l.leaseId(), now + TimeUnit.MILLISECONDS.toNanos(l.ttlMillis()));
    }
  }

  /** Stops expiring leases and forgets every deadline (another node is in charge now). */
  public void resign() {
    inCharge = false;
    deadlines.clear();
  }

  /** Whether this reaper expires leases. */
  public boolean inCharge() {
    return inCharge;
  }

  /** How many leases this reaper tracks a deadline for. */
  public int trackedLeases() {
    return deadlines.size();
  }

  @Override
  public void onApplied(AppliedBatch batch) {
    if (!inCharge || batch.leaseEvents().isEmpty()) {
      return;
    }
    long now = clock.nanoTime();
    for (LeaseEvent e : batch.leaseEvents()) {
      if (e.kind() == LeaseEvent.Kind.REVOKED) {
        deadlines.remove(e.leaseId());
      } else {
        deadlines.put(e.leaseId(), now + TimeUnit.MILLISECONDS.toNanos(e.ttlMillis()));
      }
    }
  }

  @Override
  public void onRestored(long appliedIndex, long lastRevision) {
    if (inCharge) {
      takeCharge();
    }
  }

  /**
   * Submits a revoke for every lease whose deadline has passed (and none is under way for); the
   * reaper's thread calls this every 50 ms, tests may call it after moving a fake clock.
   *
   * @return how many revokes were submitted
   */
  public int expireDue() {
    if (!inCharge) {
      return 0;
    }
    long now = clock.nanoTime();
    int n = 0;
    for (Map.Entry<Long, Long> d : deadlines.entrySet()) {
      long id = d.getKey();
      if (now - d.getValue() >= 0 && revoking.add(id)) {
        n++;
        submitter
            .submit(new Command.LeaseRevoke(id))
            .whenComplete(
                (r, ex) -> {
                  revoking.remove(id);
                  if (ex == null && (r.isOk() || r instanceof CommandResult.LeaseNotFound)) {
                    deadlines.remove(id);
                  }
                });
      }
    }
    return n;
  }

  /** Stops the reaper's thread; leases are left as they are. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    inCharge = false;
    engine.removeListener(this);
    duty.close();
  }
}
