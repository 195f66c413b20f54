package io.libkv.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd serving clients over TLS and requiring client certificates: the store connects with PEM
 * files ({@link Config.TlsFiles}) or with an application's {@link javax.net.ssl.SSLContext}, and a
 * client without a certificate is refused.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EtcdTlsIT {
  @TempDir static Path certDir;
  private static TestCertificates certs;
  private static EtcdCluster etcd;

  @BeforeAll
  static void startEtcdWithTls() throws Exception {
    certs = TestCertificates.create(certDir);
    etcd =
        EtcdCluster.start(
            1,
            Duration.ofMillis(50),
            new EtcdCluster.Tls(certs.serverCert, certs.serverKey, certs.caCert));
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.close();
    }
  }

  @Test
  void pemFilesWithClientCertificate() throws Exception {
    Config config =
        Config.builder()
            .connectionTimeout(Duration.ofSeconds(10))
            .tls(new Config.TlsFiles(certs.clientCert, certs.clientKey, certs.caCert))
            .build();
    // host:port endpoints mean https once TLS is configured.
    try (Store store = LibKV.newStore(Backend.ETCD, etcd.endpoints(), config)) {
      roundTrip(store, "tls/files");
    }
  }

  @Test
  void applicationSslContextWithHttpsEndpoints() throws Exception {
    Config config =
        Config.builder()
            .connectionTimeout(Duration.ofSeconds(10))
            .tls(certs.clientContext())
            .build();
    List<String> https = etcd.endpoints().stream().map(e -> "https://" + e).toList();
    try (Store store = LibKV.newStore(Backend.ETCD, https, config)) {
      roundTrip(store, "tls/context");
    }
  }

  @Test
  void clientWithoutCertificateIsRefused() {
    Config config =
        Config.builder()
            .connectionTimeout(Duration.ofSeconds(3))
            .tls(new Config.TlsFiles(null, null, certs.caCert))
            .build();
    StoreException e =
        assertThrows(
            StoreException.class, () -> LibKV.newStore(Backend.ETCD, etcd.endpoints(), config));
    assertTrue(e.getMessage().contains("TLS handshake with"), e.getMessage());
    assertTrue(e.getMessage().contains("client certificate"), e.getMessage());
  }

  @Test
  void unreadableTlsFilesAreAConfigurationError() {
    Path missing = certDir.resolve("missing.pem");
    Config config =
        Config.builder().tls(new Config.TlsFiles(missing, missing, certs.caCert)).build();
    assertThrows(
        IllegalArgumentException.class,
        () -> LibKV.newStore(Backend.ETCD, etcd.endpoints(), config));
    assertFalse(Files.exists(missing));
  }

  private static void roundTrip(Store store, String k) throws InterruptedException {
    store.put(k, "secure".getBytes(UTF_8), null);
    assertArrayEquals("secure".getBytes(UTF_8), store.get(k).value());
    try (Watch<KVPair> w = store.watch(k)) {
      assertNotNull(w.poll(Duration.ofSeconds(10)));
      store.put(k, "again".getBytes(UTF_8), null);
      KVPair ev = w.poll(Duration.ofSeconds(10));
      assertNotNull(ev);
      assertArrayEquals("again".getBytes(UTF_8), ev.value());
    }
    store.delete(k);
  }
}
