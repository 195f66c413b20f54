package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GroupCommitterTest {
  private final ExecutorService transport = Executors.newFixedThreadPool(3);

  @AfterEach
  void stop() throws InterruptedException {
    transport.shutdownNow();
    assertTrue(transport.awaitTermination(10, TimeUnit.SECONDS));
  }

  /** A sender that answers each request with its negation, later, on another thread. */
  private final class Recorder implements GroupCommitter.Sender<Integer, Integer> {
    final ConcurrentLinkedQueue<List<Integer>> sent = new ConcurrentLinkedQueue<>();
    final AtomicInteger inFlight = new AtomicInteger();
    volatile int maxSeen;

    @Override
    public CompletableFuture<List<Integer>> send(List<Integer> batch) {
      sent.add(List.copyOf(batch));
      int n = inFlight.incrementAndGet();
      maxSeen = Math.max(maxSeen, n);
      CompletableFuture<List<Integer>> reply = new CompletableFuture<>();
      transport.execute(
          () -> {
            if (ThreadLocalRandom.current().nextInt(4) == 0) {
              Thread.yield();
            }
            inFlight.decrementAndGet();
            reply.complete(batch.stream().map(i -> -i).toList());
          });
      return reply;
    }
  }

  /**
   * Many threads submitting at once while replies arrive on other threads: every request is sent in
   * exactly one batch, gets its own result, and each thread's requests leave in the order it made
   * them. (A drain that peeked one request and polled another once sent a request twice and lost
   * its neighbour, whose caller then waited forever.)
   */
  @RepeatedTest(10)
  void everyRequestIsSentOnceInOrderAndAnswered() throws Exception {
    Recorder rec = new Recorder();
    int maxInFlight = 3;
    GroupCommitter<Integer, Integer> gc = new GroupCommitter<>(rec, i -> 8, 16, 64, maxInFlight);
    int threads = 6;
    int perThread = 2_000;
    List<List<CompletableFuture<Integer>>> futures = new ArrayList<>();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> submitters = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      List<CompletableFuture<Integer>> mine = new ArrayList<>();
      futures.add(mine);
      int base = t * perThread;
      Thread th =
          new Thread(
              () -> {
                try {
                  go.await();
                } catch (InterruptedException e) {
                  return;
                }
                for (int i = 1; i <= perThread; i++) {
                  mine.add(gc.submit(base + i));
                }
              });
      th.start();
      submitters.add(th);
    }
    go.countDown();
    for (Thread th : submitters) {
      th.join();
    }
    for (int t = 0; t < threads; t++) {
      for (int i = 0; i < perThread; i++) {
        int request = t * perThread + i + 1;
        assertEquals(
            -request, futures.get(t).get(i).get(10, TimeUnit.SECONDS), "request " + request);
      }
    }
    List<Integer> all = new ArrayList<>();
    for (List<Integer> batch : rec.sent) {
      assertTrue(batch.size() <= 16, "batch of " + batch.size());
      assertTrue(batch.size() * 8 <= 64, "batch of " + batch.size() * 8 + " bytes");
      all.addAll(batch);
    }
    assertEquals(threads * perThread, all.size(), "requests sent, counting repeats");
    int[] last = new int[threads];
    for (int r : all) {
      int t = (r - 1) / perThread;
      assertTrue(r > last[t], "thread " + t + " sent " + r + " after " + last[t]);
      last[t] = r;
    }
    assertTrue(rec.maxSeen <= maxInFlight, "in flight at once: " + rec.maxSeen);
  }

  @Test
  void aFailedBatchFailsItsRequestsAndTheNextOnesStillGo() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    GroupCommitter<Integer, Integer> gc =
        new GroupCommitter<>(
            batch ->
                calls.incrementAndGet() == 1
                    ? CompletableFuture.failedFuture(new IllegalStateException("boom"))
                    : CompletableFuture.completedFuture(batch),
            i -> 1,
            100,
            100,
            1);
    CompletableFuture<Integer> first = gc.submit(1);
    assertTrue(first.isCompletedExceptionally());
    assertEquals(2, gc.submit(2).get(5, TimeUnit.SECONDS));
  }

  @Test
  void closeFailsWhatIsQueuedAndEverythingAfter() throws Exception {
    CompletableFuture<List<Integer>> never = new CompletableFuture<>();
    GroupCommitter<Integer, Integer> gc = new GroupCommitter<>(batch -> never, i -> 1, 100, 100, 1);
    CompletableFuture<Integer> sent = gc.submit(1);
    CompletableFuture<Integer> queued = gc.submit(2);
    gc.close(t -> new IllegalStateException("closed"));
    assertTrue(queued.isCompletedExceptionally());
    assertTrue(gc.submit(3).isCompletedExceptionally());
    never.complete(List.of(-1));
    assertEquals(-1, sent.get(5, TimeUnit.SECONDS));
  }

  @Test
  void submittersWaitForRoomAndFailWhenNoneComesInTime() throws Exception {
    List<CompletableFuture<List<Integer>>> replies =
        new java.util.concurrent.CopyOnWriteArrayList<>();
    GroupCommitter<Integer, Integer> gc =
        new GroupCommitter<>(
            batch -> {
              CompletableFuture<List<Integer>> r = new CompletableFuture<>();
              replies.add(r);
              return r;
            },
            i -> 10,
            1,
            100,
            1,
            25,
            TimeUnit.MILLISECONDS.toNanos(200),
            max -> new IllegalStateException("full at " + max),
            Runnable::run);
    CompletableFuture<Integer> first = gc.submit(1); // sent
    CompletableFuture<Integer> second = gc.submit(2); // queued: 20 of 25 bytes taken
    CompletableFuture<Integer> third = gc.submit(3); // no room within 200 ms
    assertTrue(third.isCompletedExceptionally());
    java.util.concurrent.ExecutionException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            java.util.concurrent.ExecutionException.class, third::get);
    assertEquals("full at 25", e.getCause().getMessage());

    // A submitter blocked for room goes on once a reply frees some.
    CompletableFuture<CompletableFuture<Integer>> fourth =
        CompletableFuture.supplyAsync(() -> gc.submit(4));
    replies.get(0).complete(List.of(-1));
    assertEquals(-1, first.get(5, TimeUnit.SECONDS));
    replies.get(1).complete(List.of(-2));
    assertEquals(-2, second.get(5, TimeUnit.SECONDS));
    while (replies.size() < 3) {
      Thread.onSpinWait();
    }
    replies.get(2).complete(List.of(-4));
    assertEquals(-4, fourth.get(5, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS));
  }

  @Test
  void whatQueuedBehindABatchIsSentByTheRedrainExecutorNotTheCompletingThread() throws Exception {
    List<String> senders = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<CompletableFuture<List<Integer>>> replies =
        new java.util.concurrent.CopyOnWriteArrayList<>();
    CountDownLatch secondSent = new CountDownLatch(2);
    java.util.concurrent.ExecutorService redrain =
        java.util.concurrent.Executors.newSingleThreadExecutor(r -> new Thread(r, "redrain"));
    try {
      GroupCommitter<Integer, Integer> gc =
          new GroupCommitter<>(
              batch -> {
                senders.add(Thread.currentThread().getName());
                CompletableFuture<List<Integer>> r = new CompletableFuture<>();
                replies.add(r);
                secondSent.countDown();
                return r;
              },
              i -> 1,
              100,
              100,
              1,
              Integer.MAX_VALUE,
              0,
              max -> new IllegalStateException("full"),
              redrain);
      CompletableFuture<Integer> first = gc.submit(1); // sent by this thread
      CompletableFuture<Integer> second = gc.submit(2); // queued: one batch in flight at most
      assertEquals(List.of(Thread.currentThread().getName()), senders);
      Thread completer = new Thread(() -> replies.get(0).complete(List.of(10)), "completer");
      completer.start();
      completer.join();
      assertEquals(10, first.get(10, TimeUnit.SECONDS));
      assertTrue(secondSent.await(10, TimeUnit.SECONDS), "the queued batch was sent");
      assertEquals("redrain", senders.get(1), "the queued batch's sender thread");
      replies.get(1).complete(List.of(20));
      assertEquals(20, second.get(10, TimeUnit.SECONDS));
    } finally {
      redrain.shutdownNow();
    }
  }

  /** pending() counts requests from their submission until their batch is answered or closed. */
  @Test
  void pendingCountsRequestsQueuedOrInFlightUntilAnswered() {
    List<CompletableFuture<List<Integer>>> replies = new ArrayList<>();
    GroupCommitter<Integer, Integer> gc =
        new GroupCommitter<>(
            batch -> {
              CompletableFuture<List<Integer>> r = new CompletableFuture<>();
              replies.add(r);
              return r;
            },
            i -> 8,
            16,
            64,
            1);
    assertEquals(0, gc.pending());
    CompletableFuture<Integer> first = gc.submit(1); // sent at once: one slot
    CompletableFuture<Integer> second = gc.submit(2); // queued behind it
    CompletableFuture<Integer> third = gc.submit(3);
    assertEquals(3, gc.pending());
    replies.get(0).complete(List.of(-1)); // answers the first; the queue goes out in one batch
    assertEquals(-1, first.join());
    assertEquals(2, gc.pending());
    gc.close(t -> new IllegalStateException("closed"));
    assertEquals(2, gc.pending(), "already sent: counted until answered");
    replies.get(1).complete(List.of(-2, -3));
    assertEquals(-2, second.join());
    assertEquals(-3, third.join());
    assertEquals(0, gc.pending());
  }
}
