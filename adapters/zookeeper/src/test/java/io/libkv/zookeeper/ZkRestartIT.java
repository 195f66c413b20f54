package io.libkv.zookeeper;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.libkv.store.HeldLock;
import io.libkv.store.KVPair;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.NotReachableException;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A server that goes away and comes back, on ZooKeeper's Netty server and client. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ZkRestartIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final long SLACK_MS = 2500;

  @Test
  void stoppedServerGivesNotReachableEndsWatchesAndRestartRecovers() throws Exception {
    try (TestingServer server = ZkTestServers.standalone(ZkTestServers.NETTY_FACTORY);
        Store store =
            ZkTestServers.open(server.getConnectString(), ZkTestServers.config(TIMEOUT).build())) {
      store.put("restart/k", "before".getBytes(UTF_8), null);
      Watch<KVPair> watch = store.watch("restart/k");
      assertNotNull(watch.poll(Duration.ofSeconds(10)), "first event");

      server.stop();
      long start = System.nanoTime();
      NotReachableException e =
          assertThrows(
              NotReachableException.class,
              () -> store.put("restart/k", "down".getBytes(UTF_8), null));
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(
          tookMs <= TIMEOUT.toMillis() + SLACK_MS,
          "NotReachable after " + tookMs + " ms, timeout " + TIMEOUT);
      assertTrue(e.getMessage().contains(server.getConnectString()), e.getMessage());

      // The open watch ends with the cause, within the connection timeout of the disconnection.
      StoreException failed = null;
      long deadline = System.nanoTime() + TIMEOUT.toNanos() + SLACK_MS * 1_000_000;
      while (failed == null && System.nanoTime() < deadline) {
        try {
          watch.poll(Duration.ofMillis(200));
        } catch (StoreException ex) {
          failed = ex;
        }
      }
      assertNotNull(failed, "the watch failed when the connection stayed down");
      assertInstanceOf(NotReachableException.class, failed.getCause(), failed.toString());
      assertThrows(StoreException.class, () -> watch.poll(Duration.ofMillis(10)), "and stays so");

      server.restart();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        try {
          store.put("restart/k", "after".getBytes(UTF_8), null);
          break;
        } catch (StoreException retry) {
          // NotReachable until the server is back; then possibly a session expiry to ride out.
          if (System.nanoTime() > until) {
            fail("the store did not recover after the restart", retry);
          }
        }
      }
      assertEquals("after", store.get("restart/k").valueAsString());
      try (Watch<KVPair> again = store.watch("restart/k")) {
        KVPair first = again.poll(Duration.ofSeconds(10));
        assertNotNull(first);
        assertEquals("after", first.valueAsString());
      }
    }
  }

  @Test
  void aHeldLockIsLostWhenItsSessionCannotBeRenewed() throws Exception {
    Duration ttl = Duration.ofSeconds(2);
    try (TestingServer server = ZkTestServers.standalone(ZkTestServers.NETTY_FACTORY);
        Store store =
            ZkTestServers.open(server.getConnectString(), ZkTestServers.config(TIMEOUT).build())) {
      Locker locker =
          store.newLock(
              "restart/lock", LockOptions.builder().value("me".getBytes(UTF_8)).ttl(ttl).build());
      HeldLock held = locker.lock(Duration.ofSeconds(10));
      long token = held.fencingToken();
      server.stop();
      long start = System.nanoTime();
      // Curator ends a session that stayed disconnected for its timeout (the lock's ttl); the
      // disconnection itself is noticed within moments of the stop.
      held.lost().get(ttl.toMillis() + 2 * SLACK_MS, TimeUnit.MILLISECONDS);
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(tookMs <= ttl.toMillis() + 2 * SLACK_MS, "lost after " + tookMs + " ms");

      server.restart();
      Locker next = store.newLock("restart/lock", null);
      HeldLock again = next.lock(Duration.ofSeconds(30));
      assertTrue(again.fencingToken() > token, "a new holder after the expiry");
      next.unlock();
    }
  }

  @Test
  void openWithoutAServerGivesNotReachableWithinTheTimeout() {
    int port = InstanceSpec.getRandomPort();
    long start = System.nanoTime();
    NotReachableException e =
        assertThrows(
            NotReachableException.class,
            () ->
                ZkTestServers.open(
                    "127.0.0.1:" + port, ZkTestServers.config(Duration.ofSeconds(2)).build()));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(tookMs <= 2000 + SLACK_MS, "took " + tookMs + " ms");
    assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
  }
}
