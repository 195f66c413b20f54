package io.libkv.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.NotReachableException;
import io.libkv.store.StoreException;
import io.libkv.store.WatchClosedException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class WatchQueueTest {

  @Test
  void deliversInOrder() throws InterruptedException {
    WatchQueue<Integer> q = new WatchQueue<>("k", 8, () -> {});
    for (int i = 0; i < 5; i++) {
      assertTrue(q.offer(i));
    }
    for (int i = 0; i < 5; i++) {
      assertEquals(i, q.take());
    }
    assertNull(q.poll(Duration.ofMillis(10)));
  }

  @Test
  void fullQueueDropsTheOldestSoOrderIsKept() throws InterruptedException {
    WatchQueue<Integer> q = new WatchQueue<>("k", 3, () -> {});
    for (int i = 0; i < 10; i++) {
      q.offer(i);
    }
    assertEquals(7, q.droppedCount());
    assertEquals(List.of(7, 8, 9), List.of(q.take(), q.take(), q.take()));
  }

  @Test
  void failureIsThrownAfterPendingEventsAndOnEveryLaterCall() throws InterruptedException {
    WatchQueue<Integer> q = new WatchQueue<>("k", 3, () -> {});
    q.offer(1);
    NotReachableException cause = new NotReachableException(List.of("h:1"), "gone", null);
    q.fail(cause);
    assertFalse(q.offer(2), "no events after a failure");
    assertEquals(1, q.take());
    StoreException e = assertThrows(StoreException.class, q::take);
    assertSame(cause, e.getCause());
    StoreException again = assertThrows(StoreException.class, () -> q.poll(Duration.ZERO));
    assertSame(cause, again.getCause());
    assertTrue(q.isClosed());
  }

  @Test
  void closeWakesABlockedReaderAndRunsTheCallbackOnce() throws Exception {
    AtomicInteger closes = new AtomicInteger();
    WatchQueue<Integer> q = new WatchQueue<>("k", 3, closes::incrementAndGet);
    CompletableFuture<Throwable> reader =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                q.take();
                return null;
              } catch (Throwable t) {
                return t;
              }
            });
    q.close();
    q.close();
    assertTrue(reader.get(5, TimeUnit.SECONDS) instanceof WatchClosedException);
    assertEquals(1, closes.get());
    assertFalse(q.offer(1));
    assertNull(q.poll(Duration.ofMillis(1)));
  }

  @Test
  void pollTimesOut() throws InterruptedException {
    WatchQueue<Integer> q = new WatchQueue<>("k", 1, () -> {});
    long start = System.nanoTime();
    assertNull(q.poll(Duration.ofMillis(50)));
    assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(45));
  }
}
