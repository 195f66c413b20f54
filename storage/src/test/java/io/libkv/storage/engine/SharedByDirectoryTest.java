package io.libkv.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.StoreException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SharedByDirectoryTest {
  @TempDir Path tmp;

  private final SharedByDirectory<Object> shared = new SharedByDirectory<>("test directory");

  @Test
  void twoSpellingsOfOneDirectoryShareOneInstanceUntilTheLastRelease() throws Exception {
    Path dir = tmp.resolve("a");
    Path same = tmp.resolve("b/../a");
    List<Object> opened = new ArrayList<>();
    List<Object> closed = new ArrayList<>();
    Object first = shared.acquire(shared.realPath(dir), d -> add(opened, new Object()), o -> {});
    Object second = shared.acquire(shared.realPath(same), d -> add(opened, new Object()), o -> {});
    assertSame(first, second);
    assertEquals(1, opened.size());
    assertTrue(Files.isDirectory(dir), "created");
    Path real = shared.realPath(dir);
    assertEquals(2, shared.references(real));

    assertFalse(shared.release(real, first, closed::add));
    assertEquals(List.of(), closed);
    assertTrue(shared.release(real, first, closed::add));
    assertEquals(List.of(first), closed);
    assertEquals(0, shared.references(real));

    // Released already: nothing more happens, and a new instance of the directory is untouched.
    Object next = shared.acquire(real, d -> new Object(), o -> {});
    assertNotSame(first, next);
    assertFalse(shared.release(real, first, closed::add));
    assertEquals(1, shared.references(real));
  }

  @Test
  void aRefusedReuseOrAFailedOpenTakesNoReference() throws Exception {
    Path real = shared.realPath(tmp.resolve("c"));
    assertThrows(
        IllegalStateException.class,
        () ->
            shared.acquire(
                real,
                d -> {
                  throw new IllegalStateException("cannot open");
                },
                o -> {}));
    assertEquals(0, shared.references(real));
    Object held = shared.acquire(real, d -> new Object(), o -> {});
    assertThrows(
        IllegalArgumentException.class,
        () ->
            shared.acquire(
                real,
                d -> new Object(),
                o -> {
                  throw new IllegalArgumentException("in use by another member");
                }));
    assertEquals(1, shared.references(real));
    assertTrue(shared.release(real, held, o -> {}));
  }

  @Test
  void anOpenOfADirectoryBeingClosedWaitsForTheClose() throws Exception {
    Path real = shared.realPath(tmp.resolve("d"));
    Object old = shared.acquire(real, d -> new Object(), o -> {});
    CountDownLatch closing = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    List<String> events = Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<?> close =
          pool.submit(
              () ->
                  shared.release(
                      real,
                      old,
                      o -> {
                        closing.countDown();
                        await(finish);
                        events.add("closed");
                      }));
      closing.await();
      AtomicReference<Thread> opener = new AtomicReference<>();
      Future<Object> open =
          pool.submit(
              () -> {
                opener.set(Thread.currentThread());
                return shared.acquire(
                    real,
                    d -> {
                      events.add("opened");
                      return new Object();
                    },
                    o -> {});
              });
      // The open waits on the registry while the close runs.
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (opener.get() == null || opener.get().getState() != Thread.State.BLOCKED) {
        assertTrue(System.nanoTime() < end, "the open never waited for the close");
        Thread.sleep(1);
      }
      assertEquals(List.of(), events);
      finish.countDown();
      close.get(10, TimeUnit.SECONDS);
      assertNotSame(old, open.get(10, TimeUnit.SECONDS));
      assertEquals(List.of("closed", "opened"), events);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aDirectoryThatCannotBeCreatedIsAStoreExceptionNamingIt() throws Exception {
    Path file = Files.writeString(tmp.resolve("plain-file"), "x");
    StoreException e =
        assertThrows(StoreException.class, () -> shared.realPath(file.resolve("sub")));
    assertTrue(e.getMessage().contains("test directory " + file.resolve("sub")), e.getMessage());
  }

  private static Object add(List<Object> list, Object o) {
    list.add(o);
    return o;
  }

  private static void await(CountDownLatch l) {
    try {
      l.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
