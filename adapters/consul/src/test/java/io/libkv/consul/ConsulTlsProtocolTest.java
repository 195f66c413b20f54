package io.libkv.consul;

import static io.libkv.consul.RecordedConsul.entryJson;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.NotReachableException;
import io.libkv.store.Store;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS protocol tests against <b>recorded API shapes</b> served over HTTPS ({@link RecordedConsul}
 * with a self-signed certificate made by the JDK's keytool): a CA file, client certificate and key
 * files (PEM, PKCS#8), and an {@link SSLContext} given directly. Not a test against Consul.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConsulTlsProtocolTest {
  static final char[] PASS = io.libkv.spi.SelfSigned.PASSWORD;

  @TempDir static Path dir;
  static KeyStore identity;
  static Path certPem;
  static Path keyPem;

  @BeforeAll
  static void makeCertificate() {
    io.libkv.spi.SelfSigned agent = io.libkv.spi.SelfSigned.make(dir, "127.0.0.1");
    identity = agent.keyStore();
    certPem = agent.certFile();
    keyPem = agent.keyFile();
  }

  /** The agent's context: presents the certificate and trusts it for client certificates too. */
  static SSLContext serverContext() throws Exception {
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(identity, PASS);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(identity);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  static RecordedConsul agent(boolean needClientAuth) throws Exception {
    RecordedConsul c = new RecordedConsul(serverContext(), needClientAuth);
    c.on("GET", "/v1/status/leader").always(200, "\"127.0.0.1:8300\"");
    c.on("GET", "/v1/kv/k").always(200, "[" + entryJson("k", "v", 1, 3, 0, 0, null) + "]");
    return c;
  }

  static Config.Builder base() {
    return Config.builder().connectionTimeout(Duration.ofSeconds(5));
  }

  @Test
  void caFileAloneTrustsTheAgentAndEndpointsDefaultToHttps() throws Exception {
    try (RecordedConsul c = agent(false);
        Store s =
            LibKV.newStore(
                Backend.CONSUL,
                List.of(c.endpoint()),
                base().tls(new Config.TlsFiles(null, null, certPem)).build())) {
      assertEquals(3, s.get("k").lastIndex());
    }
  }

  @Test
  void clientCertificateAndPkcs8KeyFilesAreSentToAnAgentThatAsks() throws Exception {
    try (RecordedConsul c = agent(true);
        Store s =
            LibKV.newStore(
                Backend.CONSUL,
                List.of("https://" + c.endpoint()),
                base().tls(new Config.TlsFiles(certPem, keyPem, certPem)).build())) {
      assertEquals(3, s.get("k").lastIndex());
    }
  }

  @Test
  void anSslContextIsUsedAsGiven() throws Exception {
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(identity);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    try (RecordedConsul c = agent(false);
        Store s = LibKV.newStore(Backend.CONSUL, List.of(c.endpoint()), base().tls(ctx).build())) {
      assertEquals(3, s.get("k").lastIndex());
    }
  }

  @Test
  void anUntrustedAgentIsRefused() throws Exception {
    try (RecordedConsul c = agent(false)) {
      // Trusting only the JDK's CAs, the self-signed agent fails the handshake.
      assertThrows(
          NotReachableException.class,
          () ->
              LibKV.newStore(
                  Backend.CONSUL,
                  List.of(c.endpoint()),
                  base().tls(SSLContext.getDefault()).build()));
    }
  }

  @Test
  void unreadableKeyFilesAreAnArgumentError() throws IOException {
    Path notAKey = dir.resolve("nokey.pem");
    Files.writeString(
        notAKey, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LibKV.newStore(
                    Backend.CONSUL,
                    List.of("127.0.0.1:1"),
                    base().tls(new Config.TlsFiles(certPem, notAKey, null)).build()));
    assertTrue(e.getMessage().contains("PKCS#8"), e.getMessage());
  }
}
