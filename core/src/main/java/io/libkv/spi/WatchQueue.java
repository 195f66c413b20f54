package io.libkv.spi;

import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import io.libkv.store.WatchClosedException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A {@link Watch} fed by a backend: the backend calls {@link #offer} (never blocks), {@link #fail}
 * when its source broke for good, and the reader calls {@code poll}/{@code take}.
 *
 * <p>At most {@code capacity} events wait; when a new one arrives at a full queue the oldest is
 * dropped, so a slow reader sees changes coalesced but never an older state after a newer one, and
 * the writer is never slowed. A capacity of 1 keeps only the latest state (right for tree watches).
 * After {@link #fail}, waiting events are still delivered, then every read throws.
 *
 * @param <T> the event type
 */
public final class WatchQueue<T> implements Watch<T> {
  private final String watched;
  private final int capacity;
  private final Consumer<? super WatchQueue<T>> onClose;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notEmpty = lock.newCondition();
  private final ArrayDeque<T> events;
  private long dropped;
  private boolean closed;
  private StoreException failure;

  /**
   * Creates a queue.
   *
   * @param watched what is watched, for messages
   * @param capacity how many events may wait before the oldest is dropped, at least 1
   * @param onClose run once, on the first {@link #close()}, to release the backend's resources
   */
  public WatchQueue(String watched, int capacity, Runnable onClose) {
    this(watched, capacity, closeAction(onClose));
  }

  /**
   * Creates a queue whose close action is given the queue itself (a backend that registers its
   * watches forgets it there).
   *
   * @param watched what is watched, for messages
   * @param capacity how many events may wait before the oldest is dropped, at least 1
   * @param onClose given this queue once, on the first {@link #close()}, to release the backend's
   *     resources
   */
  public WatchQueue(String watched, int capacity, Consumer<? super WatchQueue<T>> onClose) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
    }
    this.watched = Objects.requireNonNull(watched, "watched");
    this.capacity = capacity;
    this.onClose = Objects.requireNonNull(onClose, "onClose");
    this.events = new ArrayDeque<>(Math.min(capacity, 64));
  }

  private static <T> Consumer<WatchQueue<T>> closeAction(Runnable onClose) {
    Objects.requireNonNull(onClose, "onClose");
    return q -> onClose.run();
  }

  /**
   * Adds an event; drops the oldest waiting one when full. Ignored once closed or failed.
   *
   * @return {@code false} if the watch is closed or failed, so the backend can stop feeding it
   */
  public boolean offer(T event) {
    Objects.requireNonNull(event, "event");
    lock.lock();
    try {
      if (closed || failure != null) {
        return false;
      }
      if (events.size() == capacity) {
        events.pollFirst();
        dropped++;
      }
      events.addLast(event);
      notEmpty.signal();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Ends the watch with an error: events already waiting are still delivered, then {@code
   * poll}/{@code take} throw {@code cause}. The first failure wins.
   */
  public void fail(StoreException cause) {
    Objects.requireNonNull(cause, "cause");
    lock.lock();
    try {
      if (!closed && failure == null) {
        failure = cause;
        notEmpty.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /** How many events were dropped to coalesce for a slow reader. */
  public long droppedCount() {
    lock.lock();
    try {
      return dropped;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public T poll(Duration timeout) throws InterruptedException {
    long remainingNs = Objects.requireNonNull(timeout, "timeout").toNanos();
    lock.lockInterruptibly();
    try {
      while (true) {
        T e = events.pollFirst();
        if (e != null) {
          return e;
        }
        if (failure != null) {
          throw rethrow();
        }
        if (closed || remainingNs <= 0) {
          return null;
        }
        remainingNs = notEmpty.awaitNanos(remainingNs);
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public T take() throws InterruptedException {
    lock.lockInterruptibly();
    try {
      while (true) {
        T e = events.pollFirst();
        if (e != null) {
          return e;
        }
        if (failure != null) {
          throw rethrow();
        }
        if (closed) {
          throw new WatchClosedException(watched);
        }
        notEmpty.await();
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public boolean isClosed() {
    lock.lock();
    try {
      return closed || failure != null;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      events.clear();
      notEmpty.signalAll();
    } finally {
      lock.unlock();
    }
    onClose.accept(this);
  }

  private StoreException rethrow() {
    // A fresh exception per call keeps each reader's stack trace, with the backend's as cause.
    return new StoreException("Watch of " + watched + " failed: " + failure.getMessage(), failure);
  }

  @Override
  public String toString() {
    return "WatchQueue[" + watched + ']';
  }
}
