package io.libkv.raft;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Group commit: turns many concurrent requests into few Raft messages. Whatever is submitted while
 * {@code maxInFlight} messages are outstanding waits in a queue and goes, all of it (up to {@code
 * maxBatch} items or {@code maxBatchBytes}), into the next message. One client writing alone pays
 * one round trip per write; many writing at once share entries, so the cluster's write rate is no
 * longer bounded by the log's fsync rate.
 *
 * <p>Thread-safe and lock-free: submitters enqueue, then one thread at a time (whichever finds
 * nobody else draining) takes batches off the queue and sends them, in queue order, while in-flight
 * slots are free. Completions run on the transport's threads and complete the callers' futures
 * there, in submission order within a message.
 *
 * @param <Q> a request
 * @param <R> its result
 */
final class GroupCommitter<Q, R> {
  /** Sends one batch; the future gives one result per request, in order. */
  interface Sender<Q, R> {
    CompletableFuture<List<R>> send(List<Q> batch);
  }

  private record Pending<Q, R>(Q request, int bytes, int room, CompletableFuture<R> result) {}

  private final Sender<Q, R> sender;
  private final ToIntFunction<Q> sizer;
  private final int maxBatch;
  private final int maxBatchBytes;
  private final int maxInFlight;
  private final ConcurrentLinkedQueue<Pending<Q, R>> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  // Requests queued or in a batch not yet answered (an operator's view of the write backlog).
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicBoolean draining = new AtomicBoolean();
  // Bytes of requests queued or in flight: back-pressure on submitters.
  private final Semaphore room;
  private final int maxQueuedBytes;
  private final long roomWaitNs;
  private final Function<Integer, RuntimeException> noRoom;
  private final Executor redrain;
  private volatile Function<Throwable, RuntimeException> closedError;

  /** A committer without back-pressure. */
  GroupCommitter(
      Sender<Q, R> sender,
      ToIntFunction<Q> sizer,
      int maxBatch,
      int maxBatchBytes,
      int maxInFlight) {
    this(
        sender,
        sizer,
        maxBatch,
        maxBatchBytes,
        maxInFlight,
        Integer.MAX_VALUE,
        0,
        null,
        Runnable::run);
  }

  /**
   * @param maxQueuedBytes at most this many bytes of requests (by {@code sizer}) may be queued or
   *     in flight; {@link #submit} waits for room up to {@code roomWaitNs}, then fails the request
   *     with {@code noRoom.apply(maxQueuedBytes)}. A request larger than the bound waits for all of
   *     it.
   * @param redrain runs the sending of what queued up while a batch was in flight, once its result
   *     is in: {@code Runnable::run} sends on the thread that completed the batch; an executor
   *     keeps that thread (e.g. a Raft member's apply thread) from sending. Callers' futures
   *     complete on the completing thread either way.
   */
  GroupCommitter(
      Sender<Q, R> sender,
      ToIntFunction<Q> sizer,
      int maxBatch,
      int maxBatchBytes,
      int maxInFlight,
      int maxQueuedBytes,
      long roomWaitNs,
      Function<Integer, RuntimeException> noRoom,
      Executor redrain) {
    this.sender = sender;
    this.sizer = sizer;
    this.maxBatch = maxBatch;
    this.maxBatchBytes = maxBatchBytes;
    this.maxInFlight = maxInFlight;
    this.maxQueuedBytes = maxQueuedBytes;
    this.room = new Semaphore(maxQueuedBytes);
    this.roomWaitNs = roomWaitNs;
    this.noRoom = noRoom;
    this.redrain = redrain;
  }

  /**
   * Queues a request; the future completes with its result or the batch's failure. Blocks while the
   * queued bytes are at their bound (see the constructor), at most the configured wait.
   */
  CompletableFuture<R> submit(Q request) {
    CompletableFuture<R> f = new CompletableFuture<>();
    Function<Throwable, RuntimeException> closed = closedError;
    if (closed != null) {
      f.completeExceptionally(closed.apply(null));
      return f;
    }
    int bytes = sizer.applyAsInt(request);
    int want = Math.min(Math.max(bytes, 0), maxQueuedBytes);
    if (!room.tryAcquire(want)) {
      try {
        if (!room.tryAcquire(want, roomWaitNs, TimeUnit.NANOSECONDS)) {
          f.completeExceptionally(noRoom.apply(maxQueuedBytes));
          return f;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        f.completeExceptionally(
            new CancellationException("interrupted while waiting for room in the write queue"));
        return f;
      }
    }
    pending.incrementAndGet();
    queue.add(new Pending<>(request, bytes, want, f));
    drain();
    return f;
  }

  /** How many requests are queued or in a batch whose answer has not come yet. Any thread. */
  int pending() {
    return pending.get();
  }

  /** Fails everything queued and everything submitted from now on with {@code error}. */
  void close(Function<Throwable, RuntimeException> error) {
    closedError = error;
    Pending<Q, R> p;
    while ((p = queue.poll()) != null) {
      room.release(p.room);
      pending.decrementAndGet();
      p.result.completeExceptionally(error.apply(null));
    }
  }

  /**
   * Sends queued requests while in-flight slots are free. One thread at a time takes and sends (the
   * {@code draining} flag), so batches leave in queue order and every request is in exactly one
   * batch; a thread that finds another draining leaves its request to it, and the drainer looks at
   * the queue and the slots again after letting go of the flag, so nothing is left behind.
   */
  private void drain() {
    while (!queue.isEmpty() && inFlight.get() < maxInFlight) {
      if (!draining.compareAndSet(false, true)) {
        return;
      }
      try {
        while (inFlight.get() < maxInFlight) {
          List<Pending<Q, R>> batch = take();
          if (batch.isEmpty()) {
            break;
          }
          inFlight.incrementAndGet();
          sendBatch(batch);
        }
      } finally {
        draining.set(false);
      }
    }
  }

  /** Called by the drainer only; {@link #close} may empty the queue meanwhile. */
  private List<Pending<Q, R>> take() {
    List<Pending<Q, R>> batch = new ArrayList<>();
    long bytes = 0;
    Pending<Q, R> next;
    while (batch.size() < maxBatch && (next = queue.peek()) != null) {
      if (!batch.isEmpty() && bytes + next.bytes > maxBatchBytes) {
        break;
      }
      Pending<Q, R> p = queue.poll(); // next, unless close() took it
      if (p == null) {
        break;
      }
      batch.add(p);
      bytes += p.bytes;
    }
    return batch;
  }

  private void sendBatch(List<Pending<Q, R>> batch) {
    List<Q> requests = new ArrayList<>(batch.size());
    for (Pending<Q, R> p : batch) {
      requests.add(p.request);
    }
    CompletableFuture<List<R>> sent;
    try {
      sent = sender.send(requests);
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.whenComplete(
        (results, error) -> {
          int freed = 0;
          for (Pending<Q, R> p : batch) {
            freed += p.room;
          }
          room.release(freed);
          inFlight.decrementAndGet();
          pending.addAndGet(-batch.size());
          if (error == null && results.size() != batch.size()) {
            error =
                new IllegalStateException(
                    "got " + results.size() + " results for " + batch.size() + " requests");
          }
          for (int i = 0; i < batch.size(); i++) {
            if (error != null) {
              batch.get(i).result.completeExceptionally(error);
            } else {
              batch.get(i).result.complete(results.get(i));
            }
          }
          if (!queue.isEmpty()) {
            try {
              redrain.execute(this::drain);
            } catch (RejectedExecutionException e) {
              drain(); // the executor is shut down: the committer is closing
            }
          }
        });
  }
}
