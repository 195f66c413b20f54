package io.libkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Backend;
import io.libkv.store.BackendNotSupportedException;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.LockOptions;
import io.libkv.store.WriteOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class LibKVTest {

  @Test
  void absentBackendNamesThePresentOnes() {
    // core alone has no backend on its class path
    BackendNotSupportedException e =
        assertThrows(
            BackendNotSupportedException.class,
            () -> LibKV.newStore(Backend.ETCD, List.of("127.0.0.1:2379"), null));
    assertEquals(Backend.ETCD, e.backend());
    assertEquals(LibKV.availableBackends(), e.available());
    assertTrue(e.getMessage().startsWith("Backend storage not supported yet"), e.getMessage());
  }

  @Test
  void nullBackendIsRefused() {
    assertThrows(NullPointerException.class, () -> LibKV.newStore(null, List.of(), null));
  }

  @Test
  void configValidatesItsLimits() {
    assertThrows(IllegalArgumentException.class, () -> Config.builder().maxValueBytes(0));
    assertThrows(
        IllegalArgumentException.class, () -> Config.builder().connectionTimeout(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> Config.builder().nodeId(" "));
    Config c = Config.builder().password("secret").option("x", "1").build();
    assertTrue(!c.toString().contains("secret"), "password not printed");
    assertEquals("1", c.toBuilder().build().option("x").orElseThrow());
  }

  @Test
  void optionsValidateTheirLimits() {
    assertThrows(IllegalArgumentException.class, () -> WriteOptions.ttl(Duration.ofSeconds(-1)));
    assertThrows(
        IllegalArgumentException.class, () -> LockOptions.builder().ttl(Duration.ofMillis(10)));
    assertEquals(LockOptions.DEFAULT_TTL, LockOptions.orDefaults(null).ttl());
  }

  @Test
  void pairsCompareValuesByContent() {
    KVPair a = new KVPair("k", new byte[] {1, 2}, 3);
    KVPair b = new KVPair("k", new byte[] {1, 2}, 3);
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    assertTrue(new KVPair("k", null, 4).isDeletion());
  }
}
