package io.libkv.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.CallNotSupportedException;
import io.libkv.store.Config;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ZkSettingsTest {

  @Test
  void defaults() {
    ZkSettings s = ZkSettings.of(List.of(), Config.defaults());
    assertEquals("127.0.0.1:2181", s.connectString());
    assertEquals("/libkv", s.root());
    assertEquals("/libkv.locks", s.lockRoot());
    assertTrue(s.syncReads());
    assertEquals(30_000, s.sessionTimeoutMs());
  }

  @Test
  void endpointsBucketAndOptions() {
    Config c =
        Config.builder()
            .bucket("/apps/one/")
            .option("zk.syncReads", "false")
            .option("zk.sessionTimeoutMs", "5000")
            .option("etcd.other", "ignored")
            .build();
    ZkSettings s = ZkSettings.of(List.of("127.0.0.1:2181", "127.0.0.2:2182"), c);
    assertEquals("127.0.0.1:2181,127.0.0.2:2182", s.connectString());
    assertEquals("/apps/one", s.root());
    assertFalse(s.syncReads());
    assertEquals(5000, s.sessionTimeoutMs());
  }

  @Test
  void badArgumentsAreRefusedNamingTheRule() throws Exception {
    Config d = Config.defaults();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ZkSettings.of(List.of("host:2181/chroot"), d));
    assertTrue(e.getMessage().contains("host:port"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ZkSettings.of(List.of("host"), d));
    assertThrows(IllegalArgumentException.class, () -> ZkSettings.of(List.of("host:0"), d));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ZkSettings.of(List.of(), Config.builder().option("zk.nope", "1").build()));
    assertTrue(e.getMessage().contains("zk.nope"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> ZkSettings.of(List.of(), Config.builder().option("zk.syncReads", "yes").build()));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ZkSettings.of(List.of(), Config.builder().option("zk.sessionTimeoutMs", "10").build()));
    assertThrows(
        IllegalArgumentException.class,
        () -> ZkSettings.of(List.of(), Config.builder().username("alice").build()));
    assertThrows(
        CallNotSupportedException.class,
        () -> ZkSettings.of(List.of(), Config.builder().tls(SSLContext.getDefault()).build()));
  }
}
