package io.libkv.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.Auth;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.auth.Permission;
import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.HeldLock;
import io.libkv.store.KVPair;
import io.libkv.store.Locker;
import io.libkv.store.NotReachableException;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import io.libkv.store.WriteOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * etcd with authentication enabled: a user with a role limited to {@code app/} works through every
 * call; a wrong password, a missing login and a key outside the role each give an error that names
 * the user and what was refused.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EtcdAuthIT {
  private static EtcdCluster etcd;

  @BeforeAll
  static void startEtcdWithAuth() throws Exception {
    etcd = EtcdCluster.start(1);
    try (Client admin =
        Client.builder()
            .endpoints(etcd.endpoints().stream().map(e -> "http://" + e).toArray(String[]::new))
            .build()) {
      Auth auth = admin.getAuthClient();
      auth.userAdd(bs("root"), bs("root-secret")).get(30, TimeUnit.SECONDS);
      auth.roleAdd(bs("root")).get(30, TimeUnit.SECONDS);
      auth.userGrantRole(bs("root"), bs("root")).get(30, TimeUnit.SECONDS);
      auth.roleAdd(bs("app")).get(30, TimeUnit.SECONDS);
      // The role may use app/ and the lock queues of locks under app/ (the adapter's internal
      // prefix is NUL "libkv/locks/" followed by the lock's key).
      auth.roleGrantPermission(bs("app"), bs("app/"), bs("app0"), Permission.Type.READWRITE)
          .get(30, TimeUnit.SECONDS);
      auth.roleGrantPermission(
              bs("app"),
              bs(EtcdStore.INTERNAL_PREFIX + "app/"),
              bs(EtcdStore.INTERNAL_PREFIX + "app0"),
              Permission.Type.READWRITE)
          .get(30, TimeUnit.SECONDS);
      auth.roleGrantPermission(bs("app"), bs("app"), ByteSequence.EMPTY, Permission.Type.READWRITE)
          .get(30, TimeUnit.SECONDS);
      auth.userAdd(bs("alice"), bs("alice-secret")).get(30, TimeUnit.SECONDS);
      auth.userGrantRole(bs("alice"), bs("app")).get(30, TimeUnit.SECONDS);
      auth.authEnable().get(30, TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.close();
    }
  }

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  private static Config login(String user, String password) {
    return Config.builder()
        .connectionTimeout(Duration.ofSeconds(5))
        .username(user)
        .password(password)
        .build();
  }

  @Test
  void authorisedUserCanUseEveryCall() throws Exception {
    try (Store store =
        LibKV.newStore(Backend.ETCD, etcd.endpoints(), login("alice", "alice-secret"))) {
      store.put("app/a", "1".getBytes(UTF_8), null);
      assertArrayEquals("1".getBytes(UTF_8), store.get("app/a").value());
      KVPair cas = store.atomicPut("app/a", "2".getBytes(UTF_8), store.get("app/a"), null);
      assertEquals("2", cas.valueAsString());
      store.put("app/ttl", new byte[] {1}, WriteOptions.ttl(Duration.ofSeconds(30)));
      try (Watch<KVPair> w = store.watch("app/a")) {
        assertNotNull(w.poll(Duration.ofSeconds(10)));
        store.put("app/a", "3".getBytes(UTF_8), null);
        KVPair ev = w.poll(Duration.ofSeconds(10));
        assertNotNull(ev);
        assertEquals("3", ev.valueAsString());
      }
      Locker lock = store.newLock("app/lock", null);
      HeldLock held = lock.lock(Duration.ofSeconds(15));
      assertTrue(held.fencingToken() > 0);
      assertEquals(
          List.of("app/a", "app/lock", "app/ttl"),
          store.list("app").stream().map(KVPair::key).toList());
      lock.unlock();
      store.deleteTree("app");
      assertFalse(store.exists("app/a"));
    }
  }

  @Test
  void wrongPasswordIsRefusedNamingTheUser() {
    StoreException e =
        assertThrows(
            StoreException.class,
            () -> LibKV.newStore(Backend.ETCD, etcd.endpoints(), login("alice", "wrong")));
    assertFalse(e instanceof NotReachableException, e.toString());
    assertTrue(e.getMessage().contains("user \"alice\""), e.getMessage());
    assertTrue(e.getMessage().contains("authentication failed"), e.getMessage());
  }

  @Test
  void missingLoginIsRefused() {
    // Opening only checks that a server answers (listing members needs no login); the first call
    // on a key is refused.
    try (Store store =
        LibKV.newStore(
            Backend.ETCD,
            etcd.endpoints(),
            Config.builder().connectionTimeout(Duration.ofSeconds(5)).build())) {
      StoreException e = assertThrows(StoreException.class, () -> store.get("app/a"));
      assertFalse(e instanceof NotReachableException, e.toString());
      assertTrue(e.getMessage().contains("unauthenticated client"), e.getMessage());
      assertTrue(e.getMessage().contains("get app/a"), e.getMessage());
    }
  }

  @Test
  void keyOutsideTheRoleIsRefusedNamingUserAndCall() {
    try (Store store =
        LibKV.newStore(Backend.ETCD, etcd.endpoints(), login("alice", "alice-secret"))) {
      StoreException e =
          assertThrows(StoreException.class, () -> store.put("other/x", new byte[] {1}, null));
      assertTrue(e.getMessage().contains("user \"alice\""), e.getMessage());
      assertTrue(e.getMessage().contains("put other/x"), e.getMessage());
      assertTrue(e.getMessage().contains("permission denied"), e.getMessage());
    }
  }

  @Test
  void usernameWithoutPasswordIsAConfigurationError() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LibKV.newStore(
                    Backend.ETCD, etcd.endpoints(), Config.builder().username("alice").build()));
    assertTrue(e.getMessage().contains("password"), e.getMessage());
  }
}
