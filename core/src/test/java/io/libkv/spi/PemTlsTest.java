package io.libkv.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Config;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The project's PEM reader: what it refuses, and a client's material that follows its files (a
 * certificate and key rewritten in place are presented at the next handshake; a half-written pair
 * is not used). Self-signed EC certificates made with the JDK's keytool.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PemTlsTest {
  private static final char[] PASS = SelfSigned.PASSWORD;
  private static final List<String> RELOADS = new ArrayList<>();
  private static final ReloadingTls.Listener RECORDED =
      new ReloadingTls.Listener() {
        @Override
        public void reloaded(List<Path> files) {
          RELOADS.add("reloaded");
        }

        @Override
        public void refused(List<Path> files, String why) {
          RELOADS.add("refused: " + why);
        }
      };

  @TempDir static Path dir;
  static KeyStore server;
  static Config.TlsFiles a;
  static Config.TlsFiles b;

  @BeforeAll
  static void makeCertificates() {
    SelfSigned s = SelfSigned.make(dir, "server");
    server = s.keyStore();
    SelfSigned ca = SelfSigned.make(dir, "client-a");
    a = new Config.TlsFiles(ca.certFile(), ca.keyFile(), s.certFile());
    SelfSigned cb = SelfSigned.make(dir, "client-b");
    b = new Config.TlsFiles(cb.certFile(), cb.keyFile(), s.certFile());
  }

  /** One handshake with a server that wants a client certificate; returns the one it was shown. */
  private static String presentedBy(SSLContext client) throws Exception {
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(server, PASS);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("a", cert(a));
    trust.setCertificateEntry("b", cert(b));
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    try (SSLServerSocket ss =
        (SSLServerSocket)
            ctx.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      ss.setNeedClientAuth(true);
      ss.setSoTimeout(20_000);
      CompletableFuture<String> seen =
          CompletableFuture.supplyAsync(
              () -> {
                try (SSLSocket s = (SSLSocket) ss.accept()) {
                  s.setSoTimeout(20_000);
                  s.startHandshake();
                  return ((X509Certificate) s.getSession().getPeerCertificates()[0])
                      .getSubjectX500Principal()
                      .getName();
                } catch (Exception e) {
                  return "failed: " + e;
                }
              });
      try (SSLSocket c =
          (SSLSocket)
              client.getSocketFactory().createSocket(ss.getInetAddress(), ss.getLocalPort())) {
        c.setSoTimeout(20_000);
        c.startHandshake();
        c.getOutputStream().flush();
      }
      return seen.get(30, TimeUnit.SECONDS);
    }
  }

  private static X509Certificate cert(Config.TlsFiles f) {
    return PemTls.certificates(f.certFile(), "certFile", "test").get(0);
  }

  /** Rewrites {@code to} with {@code from}'s bytes and a later modification time. */
  private static void rewrite(Path from, Path to, int secondsLater) throws Exception {
    Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    Files.setLastModifiedTime(to, FileTime.from(Instant.now().plusSeconds(secondsLater)));
  }

  @Test
  void aClientsCertificateRewrittenInPlaceIsPresentedAtTheNextHandshake() throws Exception {
    Path cert = dir.resolve("rotating.pem");
    Path key = dir.resolve("rotating-key.pem");
    Files.copy(a.certFile(), cert, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(a.keyFile(), key, StandardCopyOption.REPLACE_EXISTING);
    PemTls.Client c = PemTls.client(new Config.TlsFiles(cert, key, a.caFile()), "test", RECORDED);
    SSLContext ctx = c.sslContext();
    assertEquals("CN=client-a", presentedBy(ctx));

    // Half-written: the new key beside the old certificate. Refused; the old pair still serves.
    rewrite(b.keyFile(), key, 5);
    assertEquals("CN=client-a", presentedBy(ctx));
    assertTrue(RELOADS.get(RELOADS.size() - 1).contains("is not the key of"), "" + RELOADS);

    rewrite(b.certFile(), cert, 10);
    assertEquals("CN=client-b", presentedBy(ctx));
    assertEquals("reloaded", RELOADS.get(RELOADS.size() - 1));
  }

  @Test
  void unfitFilesAreRefusedNamingTheFileAndTheRemedy() throws Exception {
    Path pkcs1 = dir.resolve("rsa-key.pem");
    Files.writeString(
        pkcs1, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PemTls.privateKey(pkcs1, "etcd TLS"));
    assertTrue(e.getMessage().startsWith("etcd TLS: keyFile " + pkcs1), e.getMessage());
    assertTrue(e.getMessage().contains("PKCS#8"), e.getMessage());

    IllegalArgumentException mismatch =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                PemTls.client(
                    new Config.TlsFiles(a.certFile(), b.keyFile(), a.caFile()), "x", RECORDED));
    assertTrue(
        mismatch.getMessage().contains("is not the key of the certificate"), mismatch.getMessage());

    Path missing = dir.resolve("missing.pem");
    IllegalArgumentException gone =
        assertThrows(
            IllegalArgumentException.class,
            () -> PemTls.certificates(missing, "caFile", "Consul TLS"));
    assertTrue(gone.getMessage().contains("cannot read caFile " + missing), gone.getMessage());

    Path notPem = dir.resolve("not.pem");
    Files.writeString(notPem, "hello");
    IllegalArgumentException junk =
        assertThrows(
            IllegalArgumentException.class, () -> PemTls.certificates(notPem, "certFile", "x"));
    assertTrue(junk.getMessage().contains(notPem.toString()), junk.getMessage());
  }
}
