package io.libkv.storage.engine;

import io.libkv.store.KVPair;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import io.libkv.store.WatchClosedException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.broadcast.BroadcastReceiver;

/**
 * A watch that reads the engine's {@link ChangeBroadcast} itself, on the thread that calls {@code
 * poll}/{@code take}: nothing is done for it between calls, so a watcher that stops reading costs
 * the writers nothing. A reader that falls a whole buffer behind (lapped) resynchronises from the
 * engine: it delivers the current state if it differs from the last one delivered (changes
 * coalesced, never an older state after a newer one), then follows the buffer again. At most {@code
 * capacity} events wait once read; beyond that the oldest are dropped (coalescing).
 *
 * <p>A reader with nothing to read parks; the hub thread unparks it when a committed batch touched
 * what it watches ({@link WatchHub}). Thread-safe; {@code poll}/{@code take} from several threads
 * are serialised by a lock.
 *
 * @param <T> the event type
 */
abstract class BroadcastWatch<T> implements Watch<T> {
  // A parked reader re-checks at least this often (a safety net; wake-ups come from the hub).
  private static final long MAX_PARK_NS = TimeUnit.SECONDS.toNanos(1);

  final WatchHub hub;
  final String key;
  final boolean prefix;
  private final int capacity;
  private final Consumer<BroadcastWatch<?>> onClose;
  private final ReentrantLock lock = new ReentrantLock();
  private final ArrayDeque<T> ready;
  private final Set<Thread> waiters = ConcurrentHashMap.newKeySet();
  // Guarded by lock.
  private BroadcastReceiver receiver;
  private long lapped;
  long skipUpTo;
  private boolean resync;
  private long restoresSeen;
  private long dropped;
  private volatile boolean closed;
  private volatile StoreException failure;

  /**
   * @param key the watched key, or for a tree watch the directory
   * @param prefix whether this is a tree watch
   */
  BroadcastWatch(
      WatchHub hub, String key, boolean prefix, int capacity, Consumer<BroadcastWatch<?>> onClose) {
    this.hub = hub;
    this.key = key;
    this.prefix = prefix;
    this.capacity = capacity;
    this.onClose = Objects.requireNonNull(onClose, "onClose");
    this.ready = new ArrayDeque<>(Math.min(capacity, 64));
  }

  /**
   * Starts reading: the receiver first, then the initial state from a snapshot of the local engine
   * (which the caller made sure is at least as new as a linearizable read); changes in that
   * snapshot are skipped in the buffer, later ones delivered, so there is no gap and no duplicate.
   */
  final void start() {
    lock.lock();
    try {
      restoresSeen = hub.broadcast().restores();
      receiver = hub.broadcast().newReceiver();
      lapped = receiver.lappedCount();
      hub.readLocal(
          v -> {
            initial(v);
            skipUpTo = v.revision();
            return null;
          });
    } finally {
      lock.unlock();
    }
  }

  /** The state a new watch starts with (lock held, snapshot valid only during the call). */
  abstract void initial(ReadView v);

  /** Catch up from the current state after being lapped or a restore (lock held). */
  abstract void catchUp(ReadView v);

  /** A change of a key this watch matches, newer than its state (lock held). */
  abstract void onChange(KVPair change);

  /** Whether a change message's key is watched (read in place). */
  abstract boolean matches(DirectBuffer b, int index);

  /** The end of a committed batch (lock held). */
  void onEnd() {}

  /** Queues an event, dropping the oldest when full (lock held). */
  final void offer(T event) {
    if (ready.size() == capacity) {
      ready.pollFirst();
      dropped++;
      hub.dropped();
    }
    ready.addLast(event);
  }

  /**
   * Reads everything published so far, in place (lock held). Each message is checked with {@code
   * validate()} before it is acted on: a message overwritten while it was read means this reader
   * was lapped.
   */
  private void drain() {
    ChangeBroadcast bc = hub.broadcast();
    BroadcastReceiver r = receiver;
    while (!resync && r.receiveNext()) {
      if (r.lappedCount() != lapped) {
        resync = true;
        break;
      }
      DirectBuffer b = r.buffer();
      int at = r.offset();
      switch (r.typeId()) {
        case ChangeBroadcast.CHANGE -> {
          if (ChangeBroadcast.revision(b, at) <= skipUpTo || !matches(b, at)) {
            break;
          }
          long seq = ChangeBroadcast.sequence(b, at);
          KVPair p = bc.cached(seq);
          boolean decoded = p == null;
          if (decoded) {
            p = ChangeBroadcast.pair(b, at);
          }
          if (!r.validate()) {
            resync = true;
            break;
          }
          if (decoded) {
            bc.remember(seq, p);
          }
          onChange(p);
        }
        case ChangeBroadcast.CHANGE_TOO_LARGE -> {
          if (ChangeBroadcast.revision(b, at) > skipUpTo && matches(b, at)) {
            resync = true; // the value is only in the engine
          }
        }
        case ChangeBroadcast.END -> {
          if (r.validate()) {
            onEnd();
          }
        }
        case ChangeBroadcast.RESTORED -> {
          if (ChangeBroadcast.restoreCount(b, at) > restoresSeen) {
            resync = true;
          }
        }
        default -> {
          // A message type this version does not know: nothing to deliver.
        }
      }
      if (!r.validate()) {
        resync = true; // what was just read may have been overwritten
      }
    }
    if (resync) {
      resync = false;
      restoresSeen = bc.restores();
      receiver = bc.newReceiver();
      lapped = receiver.lappedCount();
      hub.readLocal(
          v -> {
            catchUp(v);
            skipUpTo = v.revision(); // a restore may move it back
            return null;
          });
      drain();
    }
  }

  @Override
  public final T poll(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + Objects.requireNonNull(timeout, "timeout").toNanos();
    return next(deadline, true);
  }

  @Override
  public final T take() throws InterruptedException {
    T e = next(0, false);
    if (e == null) {
      throw new WatchClosedException(watched());
    }
    return e;
  }

  private T next(long deadlineNs, boolean timed) throws InterruptedException {
    Thread me = Thread.currentThread();
    while (true) {
      long seen = hub.broadcast().tail();
      lock.lockInterruptibly();
      try {
        T e = ready.pollFirst();
        if (e == null && !closed && failure == null) {
          try {
            drain();
          } catch (RuntimeException x) {
            fail(
                x instanceof StoreException se
                    ? se
                    : new StoreException("Watch of " + watched() + " could not read: " + x, x));
          }
          e = ready.pollFirst();
        }
        if (e != null) {
          if (!ready.isEmpty()) {
            wake(); // another thread may be waiting on this watch
          }
          return e;
        }
        if (failure != null) {
          throw new StoreException(
              "Watch of " + watched() + " failed: " + failure.getMessage(), failure);
        }
        if (closed) {
          return null;
        }
      } finally {
        lock.unlock();
      }
      long waitNs = timed ? deadlineNs - System.nanoTime() : MAX_PARK_NS;
      if (waitNs <= 0) {
        return null;
      }
      sleeping(me);
      try {
        // Registered first, then checked: a batch published after this check wakes us.
        if (hub.broadcast().tail() == seen && !closed && failure == null) {
          LockSupport.parkNanos(this, Math.min(waitNs, MAX_PARK_NS));
        }
      } finally {
        awake(me);
      }
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
    }
  }

  private void sleeping(Thread me) {
    synchronized (waiters) {
      if (waiters.isEmpty()) {
        hub.sleeping(this);
      }
      waiters.add(me);
    }
  }

  private void awake(Thread me) {
    synchronized (waiters) {
      waiters.remove(me);
      if (waiters.isEmpty()) {
        hub.awake(this);
      }
    }
  }

  /** Unparks the threads waiting on this watch (hub thread, or close). */
  final void wake() {
    for (Thread t : waiters) {
      LockSupport.unpark(t);
    }
  }

  /** Ends the watch with an error: events already read are still delivered, then reads throw. */
  final void fail(StoreException cause) {
    if (failure == null && !closed) {
      failure = cause;
    }
    wake();
  }

  /** How many events were dropped to coalesce for a slow reader. */
  final long droppedCount() {
    lock.lock();
    try {
      return dropped;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public final boolean isClosed() {
    return closed || failure != null;
  }

  @Override
  public final void close() {
    if (closed) {
      return;
    }
    closed = true;
    wake();
    onClose.accept(this);
    if (lock.tryLock()) {
      try {
        ready.clear();
      } finally {
        lock.unlock();
      }
    }
  }

  private String watched() {
    return prefix ? key + "/" : key;
  }

  @Override
  public String toString() {
    return "BroadcastWatch[" + watched() + "]";
  }

  /** A key watch: the current pair (or the replayed history) first, then every change. */
  static final class Key extends BroadcastWatch<KVPair> {
    private final byte[] keyBytes;
    private final long afterIndex;
    private final WatchState.Key state;

    /**
     * @param afterIndex replay every change after this revision first, or -1 for the current pair
     */
    Key(
        WatchHub hub,
        String key,
        long afterIndex,
        int capacity,
        Consumer<BroadcastWatch<?>> onClose) {
      super(hub, key, false, capacity, onClose);
      this.keyBytes = ChangeBroadcast.utf8(key);
      this.afterIndex = afterIndex;
      this.state = new WatchState.Key(key);
    }

    @Override
    void initial(ReadView v) {
      if (afterIndex < 0) {
        KvEntry e = v.get(key);
        if (e != null) {
          offer(state.delivered(e.toPair()));
        }
      } else {
        for (ChangeEvent e : v.keyChangesAfter(key, afterIndex)) {
          offer(state.delivered(e.toPair()));
        }
      }
    }

    @Override
    boolean matches(DirectBuffer b, int index) {
      return ChangeBroadcast.keyEquals(b, index, keyBytes);
    }

    @Override
    void onChange(KVPair change) {
      offer(state.delivered(change));
    }

    @Override
    void catchUp(ReadView v) {
      KVPair p = state.catchUp(v);
      if (p != null) {
        offer(p);
      }
    }
  }

  /** A tree watch: the whole list first, then after every revision that changed the tree. */
  static final class Tree extends BroadcastWatch<List<KVPair>> {
    private final byte[] prefixBytes;
    private final WatchState.Tree state;

    Tree(WatchHub hub, String directory, int capacity, Consumer<BroadcastWatch<?>> onClose) {
      super(hub, directory, true, capacity, onClose);
      this.prefixBytes = ChangeBroadcast.utf8(directory + "/");
      this.state = new WatchState.Tree(directory);
    }

    @Override
    void initial(ReadView v) {
      offer(state.load(v));
    }

    @Override
    void catchUp(ReadView v) {
      offer(state.load(v));
    }

    @Override
    boolean matches(DirectBuffer b, int index) {
      return ChangeBroadcast.keyUnder(b, index, prefixBytes);
    }

    @Override
    void onChange(KVPair change) {
      List<KVPair> complete = state.change(change);
      if (complete != null) {
        offer(complete);
      }
    }

    @Override
    void onEnd() {
      List<KVPair> pending = state.end();
      if (pending != null) {
        offer(pending);
      }
    }
  }
}
