package io.libkv.raft;

import java.util.Collection;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LogAppender;
import org.apache.ratis.util.Timestamp;

/**
 * Tells the followers a new commit index soon after the leader commits, when no AppendEntries would
 * tell them otherwise before the next heartbeat.
 *
 * <p>A follower applies an entry only once it knows the entry is committed, and it learns that from
 * the leader's next AppendEntries. Ratis sends one with the next entries, with a heartbeat (every
 * half election timeout: 500 ms by default), or, by default, with a metadata entry it appends to
 * the log after every commit. Members switch that entry off ({@link RaftSettings}): it cost each
 * write a second log entry, a second fsync on every member, and, since a Netty appender has one
 * call in flight per follower, held the next write's AppendEntries while the follower synced it.
 * Without it a follower would apply a lone write, and show it to its watches, its stale reads and
 * its lock waits, up to a heartbeat late.
 *
 * <p>So, {@link #DELAY_MICROS} after a commit, each running appender whose follower has not
 * reported the commit and that has sent nothing since it is asked for a heartbeat, which carries
 * the commit index (no log entry, no fsync). The delay leaves the commit to the next write's
 * AppendEntries when one follows at once (a client writing in a loop, any load), where an immediate
 * heartbeat would hold that AppendEntries for a round trip: measured with {@code ./libkv bench
 * trace}, an immediate heartbeat cost a lone put on the leader's store as much as the metadata
 * entry did.
 *
 * <p>Thread-safe: {@link #committed} runs on Ratis' apply thread and never blocks; the check runs
 * on the announcer's own timer thread.
 */
final class CommitAnnouncer implements AutoCloseable {
  /** How long after a commit the followers that heard nothing since are told. */
  static final long DELAY_MICROS = 2_000;

  private final Supplier<Collection<LogAppender>> appenders;
  private final ScheduledExecutorService timer;
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private volatile Commit latest;

  private record Commit(long index, Timestamp at) {}

  /**
   * @param appenders the log appenders of this member's current leadership (empty when it does not
   *     lead)
   * @param name names the member, for the timer thread
   */
  CommitAnnouncer(Supplier<Collection<LogAppender>> appenders, String name) {
    this.appenders = appenders;
    ScheduledThreadPoolExecutor t =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread th = new Thread(r, "libkv-commit-announcer-" + name);
              th.setDaemon(true);
              return th;
            });
    t.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.timer = t;
  }

  /** Called on the leader once it has applied (so committed) the entry at {@code index}. */
  void committed(long index) {
    latest = new Commit(index, Timestamp.currentTime());
    if (scheduled.compareAndSet(false, true)) {
      schedule(DELAY_MICROS);
    }
  }

  private void schedule(long micros) {
    try {
      timer.schedule(this::check, micros, TimeUnit.MICROSECONDS);
    } catch (RejectedExecutionException closed) {
      scheduled.set(false);
    }
  }

  /** Runs on the timer: announces the latest commit once it is {@link #DELAY_MICROS} old. */
  void check() {
    Commit c = latest;
    long age = c.at().elapsedTime().toLong(TimeUnit.MICROSECONDS);
    if (age < DELAY_MICROS) {
      schedule(DELAY_MICROS - age); // a later commit came: give it its own delay
      return;
    }
    scheduled.set(false);
    announce(c);
    if (latest != c && scheduled.compareAndSet(false, true)) {
      schedule(DELAY_MICROS); // committed again while this ran
    }
  }

  private void announce(Commit c) {
    for (LogAppender a : appenders.get()) {
      if (!a.isRunning()) {
        continue;
      }
      FollowerInfo f = a.getFollower();
      // An AppendEntries sent after the commit carried it (Ratis reads the commit index when it
      // builds each request); a heartbeat now would only queue behind it.
      if (f.getCommitIndex() < c.index() && f.getLastRpcSendTime().compareTo(c.at()) < 0) {
        a.triggerHeartbeat();
      }
    }
  }

  /** Whether a check is scheduled or running (for tests). */
  boolean pending() {
    return scheduled.get();
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
