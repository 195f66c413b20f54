package io.libkv.zookeeper;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.CallNotSupportedException;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.Store;
import io.libkv.store.Watch;
import io.libkv.store.WriteOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What the ZooKeeper mapping adds to the shared suite. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ZkStoreIT {
  private static TestingServer server;

  @BeforeAll
  static void startServer() throws Exception {
    server = ZkTestServers.standalone(ZkTestServers.NIO_FACTORY);
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.close();
  }

  private static Store open(String bucket) {
    return ZkTestServers.open(
        server.getConnectString(),
        ZkTestServers.config(Duration.ofSeconds(15)).bucket(bucket).build());
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  @Test
  void implicitParentsAreDirectoriesNotKeys() {
    try (Store s = open("dirs")) {
      s.put("a/b/c", b("c"), null);
      assertThrows(KeyNotFoundException.class, () -> s.get("a/b"));
      assertFalse(s.exists("a"));
      assertEquals(List.of("a/b/c"), s.list("a").stream().map(KVPair::key).toList());
      s.put("a/b", b("b"), null);
      assertEquals(List.of("a/b", "a/b/c"), s.list("a").stream().map(KVPair::key).toList());
      s.delete("a/b");
      assertFalse(s.exists("a/b"));
      assertEquals("c", s.get("a/b/c").valueAsString());
      s.delete("a/b/c");
      // The emptied directories are pruned: nothing is at or under a.
      assertThrows(KeyNotFoundException.class, () -> s.list("a"));
    }
  }

  @Test
  void bucketsAreSeparateNameSpaces() {
    try (Store one = open("one");
        Store two = open("two")) {
      one.put("k", b("1"), null);
      assertFalse(two.exists("k"));
      two.put("k", b("2"), null);
      assertEquals("1", one.get("k").valueAsString());
    }
  }

  @Test
  void aValueOfTheFullDefaultLimitRoundTrips() {
    byte[] big = new byte[Config.DEFAULT_MAX_VALUE_BYTES];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (i * 31);
    }
    try (Store s = open("big")) {
      s.put("big", big, null);
      assertArrayEquals(big, s.get("big").value());
      s.put("dir/big", big, null);
      assertArrayEquals(big, s.list("dir").get(0).value());
    }
  }

  @Test
  void ttlReplacesAPersistentKeyAndExpires() throws Exception {
    try (Store s = open("ttl")) {
      s.put("k", b("persistent"), null);
      s.put("k", b("short"), WriteOptions.ttl(Duration.ofSeconds(1)));
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2500);
      while (s.exists("k")) {
        assertTrue(System.nanoTime() < deadline, "TTL key outlived ttl + 1.5 s");
        TimeUnit.MILLISECONDS.sleep(20);
      }
    }
  }

  @Test
  void ttlWithoutServerSupportIsCallNotSupportedNamingTheSetting() {
    String old = System.getProperty("zookeeper.extendedTypesEnabled");
    System.setProperty("zookeeper.extendedTypesEnabled", "false");
    try (Store s = open("nottl")) {
      CallNotSupportedException e =
          assertThrows(
              CallNotSupportedException.class,
              () -> s.put("k", b("v"), WriteOptions.ttl(Duration.ofSeconds(5))));
      assertTrue(e.getMessage().contains("zookeeper.extendedTypesEnabled=true"), e.getMessage());
    } finally {
      System.setProperty("zookeeper.extendedTypesEnabled", old == null ? "true" : old);
    }
  }

  @Test
  void deletingAKeyWithChildrenIsADeletionEvent() throws Exception {
    try (Store s = open("watchdir")) {
      s.put("p", b("p"), null);
      s.put("p/child", b("c"), null);
      try (Watch<KVPair> w = s.watch("p")) {
        KVPair first = w.poll(Duration.ofSeconds(10));
        assertNotNull(first);
        s.delete("p");
        KVPair del = w.poll(Duration.ofSeconds(10));
        assertNotNull(del);
        assertTrue(del.isDeletion());
        assertTrue(del.lastIndex() > first.lastIndex());
        s.put("p", b("again"), null);
        KVPair back = w.poll(Duration.ofSeconds(10));
        assertNotNull(back);
        assertEquals("again", back.valueAsString());
        assertTrue(back.lastIndex() > del.lastIndex());
      }
      assertEquals("c", s.get("p/child").valueAsString());
    }
  }

  @Test
  void aDeletionEventCarriesTheZxidOfTheDelete() throws Exception {
    try (Store s = open("delzxid");
        CuratorFramework raw =
            CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100))) {
      raw.start();
      s.put("z/keep", b("k"), null);
      s.put("z/k", b("v"), null);
      try (Watch<KVPair> w = s.watch("z/k")) {
        assertNotNull(w.poll(Duration.ofSeconds(10)));
        s.delete("z/k");
        KVPair del = w.poll(Duration.ofSeconds(10));
        assertNotNull(del);
        assertTrue(del.isDeletion());
        // Nothing else changed z's children since: its pzxid is the zxid of the delete.
        Stat parent = raw.checkExists().forPath("/delzxid/z");
        assertEquals(parent.getPzxid(), del.lastIndex());
      }
    }
  }

  @Test
  void watchFromAnIndexIsNotSupported() {
    try (Store s = open("resume")) {
      s.put("k", b("v"), null);
      long index = s.get("k").lastIndex();
      CallNotSupportedException e =
          assertThrows(CallNotSupportedException.class, () -> s.watch("k", index));
      assertTrue(e.getMessage().contains("no history"), e.getMessage());
    }
  }
}
