package io.libkv.zookeeper;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Config;
import io.libkv.store.HeldLock;
import io.libkv.store.Locker;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Digest credentials: creator-only znodes, and a clear refusal of wrong ones. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ZkAuthIT {

  @Test
  void wrongPasswordIsRefusedNamingTheUserAndTheZnode() throws Exception {
    try (TestingServer server = ZkTestServers.standalone(ZkTestServers.NIO_FACTORY)) {
      Config right =
          ZkTestServers.config(Duration.ofSeconds(15))
              .bucket("secure")
              .username("alice")
              .password("secret")
              .build();
      try (Store s = ZkTestServers.open(server.getConnectString(), right)) {
        s.put("a/b", "1".getBytes(UTF_8), null);
        Locker l = s.newLock("mutex", null);
        HeldLock h = l.lock(Duration.ofSeconds(10));
        assertNotNull(h);
        l.unlock();
      }

      Config wrong = right.toBuilder().password("guess").build();
      StoreException e =
          assertThrows(
              StoreException.class, () -> ZkTestServers.open(server.getConnectString(), wrong));
      assertTrue(e.getMessage().contains("refused"), e.getMessage());
      assertTrue(e.getMessage().contains("'alice'"), e.getMessage());
      assertTrue(e.getMessage().contains("/secure"), e.getMessage());
      assertTrue(e.getMessage().contains("wrong password"), e.getMessage());

      Config anonymous = ZkTestServers.config(Duration.ofSeconds(15)).bucket("secure").build();
      StoreException anon =
          assertThrows(
              StoreException.class, () -> ZkTestServers.open(server.getConnectString(), anonymous));
      assertTrue(anon.getMessage().contains("unauthenticated"), anon.getMessage());

      try (Store s = ZkTestServers.open(server.getConnectString(), right)) {
        assertEquals("1", s.get("a/b").valueAsString(), "the right credentials still read it");
      }
    }
  }
}
