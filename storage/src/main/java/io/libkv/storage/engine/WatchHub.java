package io.libkv.storage.engine;

import io.libkv.spi.Keys;
import io.libkv.store.HistoryCompactedException;
import io.libkv.store.StoreException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.broadcast.BroadcastReceiver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The change fan-out of one {@link KvEngine}.
 *
 * <p><b>With a local engine</b> ({@link #WatchHub(KvEngine, String)}): the apply thread is the
 * single writer of an Agrona broadcast buffer ({@link ChangeBroadcast}): after each commit it
 * copies the batch's changes in and unparks the hub thread, never waiting for anyone. Every key and
 * tree watch ({@link BroadcastWatch}) is a reader of that buffer, on the thread that polls it: a
 * watcher that stops reading costs the writers nothing, and one that falls a whole buffer behind is
 * lapped and resynchronises from the engine (the current state, coalesced, never out of order). The
 * hub thread reads the buffer too, only to unpark the watchers parked on a key (or under a
 * directory) that a batch changed. Lock waits are subscriptions fed by the hub thread from the
 * engine's revision history.
 *
 * <p><b>Without one</b> ({@link #WatchHub(KvReader, String, Duration)}, a client-only store): the
 * hub thread polls the reader's history and feeds every watch through a non-blocking, coalescing
 * {@link io.libkv.spi.WatchQueue}; registration happens on the hub thread, so the seam between a
 * watch's initial state (or replayed history) and its live changes has no gap and no duplicate.
 *
 * <p>One hub per engine; {@link EngineStore}s opened on the same engine share it. Thread-safe.
 */
public final class WatchHub implements ApplyListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WatchHub.class);
  private static final int PAGE = 1024;
  private static final long IDLE_PARK_NS = TimeUnit.MILLISECONDS.toNanos(100);

  private final KvEngine engine; // null when following a reader by polling
  private final KvReader source;
  private final long pollNs;
  private final String name;
  private final DutyCycle duty;
  private volatile Throwable fatal;
  private final ManyToOneConcurrentArrayQueue<Runnable> ops =
      new ManyToOneConcurrentArrayQueue<>(4096);
  // Owned by the hub thread.
  private final List<Subscription> subs = new ArrayList<>();
  private final Map<String, List<Subscription>> byKey = new HashMap<>();
  private final List<Subscription> pending = new ArrayList<>();
  private long delivered;
  private boolean resyncDue;
  private volatile boolean restored;
  private volatile boolean closed;
  // Broadcast mode only (null when polling a reader).
  private final ChangeBroadcast broadcast;
  private final Set<BroadcastWatch<?>> live = ConcurrentHashMap.newKeySet();
  private final LongAdder droppedEvents = new LongAdder();
  private final Map<String, Set<BroadcastWatch<?>>> sleepingKeys = new ConcurrentHashMap<>();
  private final Set<BroadcastWatch<?>> sleepingTrees = ConcurrentHashMap.newKeySet();
  // Owned by the hub thread.
  private final Set<String> changedKeys = new HashSet<>();
  private BroadcastReceiver wakeReceiver;
  private long wakeLapped;
  private boolean wakeAll;

  /**
   * Creates the hub of {@code engine} and starts its thread ({@code libkv-watch-<name>}); it
   * listens to the engine until {@link #close()}.
   */
  public WatchHub(KvEngine engine, String name) {
    this(engine, name, ChangeBroadcast.DEFAULT_CAPACITY);
  }

  /**
   * Creates the hub of {@code engine} with a broadcast buffer of {@code bufferBytes} (a power of
   * two; a watcher more than about that many bytes of changes behind resyncs from the engine).
   */
  public WatchHub(KvEngine engine, String name, int bufferBytes) {
    this.engine = Objects.requireNonNull(engine, "engine");
    this.broadcast = new ChangeBroadcast(bufferBytes);
    this.wakeReceiver = broadcast.newReceiver();
    this.source = engine;
    this.pollNs = IDLE_PARK_NS;
    this.name = Objects.requireNonNull(name, "name");
    this.delivered = engine.lastRevision();
    engine.addListener(this);
    this.duty = startDuty();
  }

  /**
   * Creates a hub that follows any {@link KvReader} by polling its history every {@code
   * pollInterval} while it has subscribers (for a store with no local engine, such as a client-only
   * Raft store whose reader queries the cluster), and starts its thread. Each poll is one {@code
   * read} with one data call ({@link ReadView#changesAfter}), so a reader that fetches a snapshot
   * per read answers it with one request; starting or resyncing a subscription is one such read
   * too. A failing poll is retried at the next one (watches are not failed by a transient error).
   */
  public WatchHub(KvReader reader, String name, Duration pollInterval) {
    this.engine = null;
    this.broadcast = null;
    this.source = Objects.requireNonNull(reader, "reader");
    this.name = Objects.requireNonNull(name, "name");
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("pollInterval must be positive, was " + pollInterval);
    }
    this.pollNs = pollInterval.toNanos();
    this.duty = startDuty();
  }

  /** The hub's thread: one {@link #dutyCycle()} after another, {@link #ended()} last. */
  private DutyCycle startDuty() {
    String role = "libkv-watch-" + name;
    return new DutyCycle(
        new Agent() {
          @Override
          public int doWork() {
            return dutyCycle();
          }

          @Override
          public void onClose() {
            ended();
          }

          @Override
          public String roleName() {
            return role;
          }
        },
        role,
        pollNs);
  }

  @Override
  public void onApplied(AppliedBatch batch) {
    if (broadcast != null) {
      broadcast.publish(batch);
    }
    duty.wake();
  }

  @Override
  public void onRestored(long appliedIndex, long lastRevision) {
    if (broadcast != null) {
      broadcast.restored();
    }
    restored = true;
    duty.wake();
  }

  // ------------------------------------------------------------------- broadcast mode (engine)

  /** Whether watches read a broadcast buffer of a local engine (else: subscriptions). */
  boolean hasBroadcast() {
    return broadcast != null;
  }

  ChangeBroadcast broadcast() {
    return broadcast;
  }

  /** The local engine's last applied revision. */
  long localRevision() {
    return engine.lastRevision();
  }

  /** Reads the local engine (never a remote reader). */
  <T> T readLocal(Function<ReadView, T> fn) {
    return engine.read(fn);
  }

  /** A broadcast watch is open: it is failed if the hub closes. */
  void opened(BroadcastWatch<?> w) {
    live.add(w);
    if (closed) {
      w.fail(new StoreException("Watch hub closed: " + name));
    }
  }

  /** A broadcast watch was closed. */
  void closed(BroadcastWatch<?> w) {
    live.remove(w);
    awake(w);
  }

  /** A broadcast watch dropped its oldest waiting event to make room (coalescing). */
  void dropped() {
    droppedEvents.increment();
  }

  /**
   * How many watches read this hub's broadcast buffer now: the open key and tree watches of the
   * stores on its local engine. Always 0 for a hub that polls a reader (a client-only store). Any
   * thread; a snapshot that may be stale by the time it returns.
   */
  public int openWatches() {
    return live.size();
  }

  /**
   * How many events this hub's broadcast watches have dropped so far to coalesce for slow readers
   * (a watch keeps a bounded number of unread events and drops the oldest beyond it), counted since
   * the hub started; never decreases. Events merged by a resynchronisation after a reader fell a
   * whole buffer behind are not counted. Always 0 for a hub that polls a reader. Any thread.
   */
  public long droppedWatchEvents() {
    return droppedEvents.sum();
  }

  /** A thread parks on {@code w}: wake it when a batch changes what it watches. */
  void sleeping(BroadcastWatch<?> w) {
    if (w.prefix) {
      sleepingTrees.add(w);
    } else {
      sleepingKeys.compute(
          w.key,
          (k, set) -> {
            Set<BroadcastWatch<?>> s = set == null ? ConcurrentHashMap.newKeySet() : set;
            s.add(w);
            return s;
          });
    }
  }

  /** No thread parks on {@code w} any more. */
  void awake(BroadcastWatch<?> w) {
    if (w.prefix) {
      sleepingTrees.remove(w);
    } else {
      sleepingKeys.computeIfPresent(
          w.key,
          (k, set) -> {
            set.remove(w);
            return set.isEmpty() ? null : set;
          });
    }
  }

  /** Hub thread: reads the buffer and unparks the watchers a committed batch concerns. */
  private void wakeSleepers() {
    BroadcastReceiver r = wakeReceiver;
    while (!wakeAll && r.receiveNext()) {
      if (r.lappedCount() != wakeLapped) {
        wakeAll = true;
        break;
      }
      DirectBuffer b = r.buffer();
      int at = r.offset();
      switch (r.typeId()) {
        case ChangeBroadcast.CHANGE, ChangeBroadcast.CHANGE_TOO_LARGE -> {
          // A watcher that parks later re-checks the buffer's tail first: only parked ones matter.
          if (!sleepingKeys.isEmpty() || !sleepingTrees.isEmpty()) {
            changedKeys.add(ChangeBroadcast.key(b, at));
          }
        }
        case ChangeBroadcast.END -> wakeChanged();
        case ChangeBroadcast.RESTORED -> wakeAll = true;
        default -> {
          // unknown message type: nobody to wake
        }
      }
      if (!r.validate()) {
        wakeAll = true; // overwritten while read: wake everyone rather than guess
      }
    }
    if (wakeAll) {
      wakeAll = false;
      changedKeys.clear();
      wakeReceiver = broadcast.newReceiver();
      wakeLapped = wakeReceiver.lappedCount();
      for (Set<BroadcastWatch<?>> set : sleepingKeys.values()) {
        set.forEach(BroadcastWatch::wake);
      }
      sleepingTrees.forEach(BroadcastWatch::wake);
    }
  }

  /** A whole batch is in (tree watches can show it): wakes those parked on what it changed. */
  private void wakeChanged() {
    if (changedKeys.isEmpty()) {
      return;
    }
    for (String k : changedKeys) {
      Set<BroadcastWatch<?>> set = sleepingKeys.get(k);
      if (set != null) {
        set.forEach(BroadcastWatch::wake);
      }
    }
    for (BroadcastWatch<?> w : sleepingTrees) {
      for (String k : changedKeys) {
        if (Keys.isUnder(k, w.key)) {
          w.wake();
          break;
        }
      }
    }
    changedKeys.clear();
  }

  // ------------------------------------------------------------------------- subscriptions

  /**
   * Registers a subscription; it starts on the hub thread once the engine has applied at least
   * {@code minRevision}.
   *
   * @return completes when the subscription is live (exceptionally if its start failed, e.g. with
   *     {@link HistoryCompactedException})
   */
  CompletableFuture<Void> subscribe(Subscription s, long minRevision) {
    s.minRevision = minRevision;
    if (!submit(() -> pending.add(s))) {
      s.started.completeExceptionally(new StoreException("Watch hub closed: " + name));
    }
    return s.started;
  }

  /** Removes a subscription (asynchronously; no event is delivered to it once this returns). */
  void unsubscribe(Subscription s) {
    s.cancelled = true;
    submit(
        () -> {
          if (pending.remove(s)) {
            s.started.complete(null);
          }
          if (subs.remove(s)) {
            List<Subscription> l = byKey.get(s.key);
            if (l != null) {
              l.remove(s);
              if (l.isEmpty()) {
                byKey.remove(s.key);
              }
            }
          }
        });
  }

  private boolean submit(Runnable op) {
    while (!ops.offer(op)) {
      if (closed) {
        return false;
      }
      Thread.onSpinWait();
    }
    if (closed) {
      return false;
    }
    duty.wake();
    return true;
  }

  /** Hub thread, once, as it ends: watches never just stop, they end with an error saying why. */
  private void ended() {
    StoreException end =
        fatal == null
            ? new StoreException("Watch hub closed: " + name)
            : new StoreException("Watch hub " + name + " failed: " + fatal, fatal);
    closed = true;
    ops.drain(Runnable::run);
    for (Subscription s : subs) {
      s.fail(end);
    }
    for (BroadcastWatch<?> w : live) {
      w.fail(end);
    }
    for (Subscription s : pending) {
      s.started.completeExceptionally(end);
      s.fail(end);
    }
  }

  /**
   * Hub thread: runs what was submitted, wakes broadcast sleepers, resyncs, delivers a page of
   * history and starts pending subscriptions; returns 0 when there was nothing to do (the thread
   * then parks until woken or the poll interval passes).
   */
  private int dutyCycle() {
    if (closed) {
      return 0;
    }
    boolean busy = false;
    try {
      ops.drain(Runnable::run);
      if (broadcast != null) {
        wakeSleepers();
      }
      if (restored) {
        restored = false;
        resyncDue = true;
      }
      if (resyncDue) {
        resyncAll();
      }
      if (!subs.isEmpty() && (engine == null || engine.lastRevision() > delivered)) {
        busy = source.read(this::dispatch);
      }
      if (!pending.isEmpty()) {
        startPending();
      }
    } catch (RuntimeException e) {
      if (closed) {
        return 0;
      }
      // A failed read (engine closing, cluster unreachable) is retried at the next round; the
      // hub's position did not move, so nothing is skipped.
      LOG.debug("watch hub " + name + " read failed; retrying", e);
    } catch (Error e) {
      fatal = e; // the hub ends: its watches fail with this
      throw new AgentTerminationException(e);
    }
    return busy || !ops.isEmpty() ? 1 : 0;
  }

  /**
   * Delivers a page of history; returns whether more may be waiting. One data call: the page and
   * the revision it is compared with come from one snapshot.
   */
  private boolean dispatch(ReadView v) {
    HistoryPage page;
    try {
      page = v.changesAfter(delivered, PAGE);
    } catch (HistoryCompactedException e) {
      // The hub fell behind the bounded history: every subscriber resyncs from current state,
      // each with a read of its own (a read makes one data call).
      resyncDue = true;
      return true;
    }
    for (ChangeEvent e : page.changes()) {
      List<Subscription> exact = byKey.get(e.key());
      if (exact != null) {
        for (Subscription s : exact) {
          s.deliver(e);
        }
      }
      for (Subscription s : subs) {
        if (s.prefix) {
          s.deliver(e);
        }
      }
    }
    delivered = page.scannedTo();
    for (Subscription s : subs) {
      s.endOfPage();
      s.lastDelivered = Math.max(s.lastDelivered, delivered);
    }
    return delivered < v.revision();
  }

  /**
   * Every subscriber catches up from the current state, each from a snapshot of its own: the hub's
   * position moves back to the oldest of them (a subscriber skips what it already has).
   */
  private void resyncAll() {
    long oldest = Long.MAX_VALUE;
    for (Subscription s : subs) {
      long rev =
          source.read(
              v -> {
                s.resync(v);
                return v.revision();
              });
      oldest = Math.min(oldest, rev);
    }
    if (oldest != Long.MAX_VALUE) {
      delivered = oldest;
    }
    resyncDue = false;
  }

  /** A subscriber's start state as read from one snapshot, delivered only if the hub accepts it. */
  private record Start(Runnable delivery, long revision) {}

  private void startPending() {
    for (Subscription s : List.copyOf(pending)) {
      if (s.cancelled) {
        pending.remove(s);
        s.started.complete(null);
        continue;
      }
      if (engine != null && engine.lastRevision() < s.minRevision) {
        continue;
      }
      Start start;
      try {
        start = source.read(v -> new Start(s.start(v), v.revision()));
      } catch (RuntimeException e) {
        pending.remove(s);
        s.started.completeExceptionally(e);
        continue;
      }
      if (start.revision() < s.minRevision) {
        continue; // a snapshot from before the subscriber's first state: read again later
      }
      pending.remove(s);
      start.delivery().run();
      // Changes up to this snapshot are in the subscriber's start state; dispatch delivers the
      // later ones, from the hub's position (moved back if this snapshot is older than it).
      delivered = subs.isEmpty() ? start.revision() : Math.min(delivered, start.revision());
      s.lastDelivered = Math.max(s.lastDelivered, start.revision());
      subs.add(s);
      if (!s.prefix) {
        byKey.computeIfAbsent(s.key, k -> new ArrayList<>(2)).add(s);
      }
      s.started.complete(null);
    }
  }

  /** Stops the hub thread; subscriptions still registered fail with a {@link StoreException}. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (engine != null) {
      engine.removeListener(this);
    }
    duty.close();
  }

  @Override
  public String toString() {
    return "WatchHub["
        + name
        + ", subscriptions="
        + subs.size()
        + ", broadcast watches="
        + live.size()
        + "]";
  }

  /**
   * One subscriber of the hub. All methods run on the hub thread, with a read view of the engine.
   */
  abstract static class Subscription {
    final String key;
    final boolean prefix;
    final CompletableFuture<Void> started = new CompletableFuture<>();
    volatile boolean cancelled;
    long minRevision;
    long lastDelivered;

    /**
     * @param key the exact key, or for a prefix subscription the directory
     * @param prefix whether every change is offered to {@link #onChange} (which filters)
     */
    Subscription(String key, boolean prefix) {
      this.key = key;
      this.prefix = prefix;
    }

    /**
     * Offers a change unless the subscriber's start state already covered it. {@code lastDelivered}
     * moves only between pages, so every change of one revision gets through.
     */
    final void deliver(ChangeEvent e) {
      if (e.revision() > lastDelivered && !cancelled) {
        onChange(e);
      }
    }

    /**
     * Reads the initial state (or the history to replay) from this snapshot with one data call and
     * no side effect; returns what delivers it, run by the hub once it accepts the snapshot.
     */
    abstract Runnable start(ReadView v);

    /** A change after {@link #lastDelivered}. */
    abstract void onChange(ChangeEvent e);

    /** The end of a page of changes. */
    void endOfPage() {}

    /**
     * History was lost or the engine was restored: catch up from the current state, read with one
     * data call.
     */
    abstract void resync(ReadView v);

    /** The hub is closing. */
    abstract void fail(StoreException e);
  }
}
