package io.libkv.zookeeper;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Config;
import io.libkv.store.NotReachableException;
import io.libkv.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS with client certificates: a Netty server on a secure port that needs a client certificate,
 * certificates made at test time with the JDK's keytool, the client given PEM files.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ZkTlsIT {
  private static final String PASS = "changeit";

  @TempDir Path dir;

  @Test
  void pemClientCertificatesReachATlsServer() throws Exception {
    // One key pair serves both ends (keytool runs are slow on a loaded machine): the server's
    // key store and the client's PEM files hold it, and each side trusts its certificate.
    Path p12 = keyPair("node");
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(p12)) {
      ks.load(in, PASS.toCharArray());
    }
    Certificate cert = ks.getCertificate("node");
    Path certPem = dir.resolve("node.pem");
    Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
    Path keyPem = dir.resolve("node.key");
    Files.writeString(
        keyPem, pem("PRIVATE KEY", ks.getKey("node", PASS.toCharArray()).getEncoded()));
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("node", cert);
    Path serverTrust = dir.resolve("trust.p12");
    try (OutputStream out = Files.newOutputStream(serverTrust)) {
      trust.store(out, PASS.toCharArray());
    }
    Path serverP12 = p12;
    Path clientPem = certPem;
    Path clientKey = keyPem;
    Path serverPem = certPem;

    int securePort = InstanceSpec.getRandomPort();
    Map<String, Object> p = new HashMap<>();
    p.put("secureClientPort", Integer.toString(securePort));
    p.put("ssl.keyStore.location", serverP12.toString());
    p.put("ssl.keyStore.password", PASS);
    p.put("ssl.keyStore.type", "PKCS12");
    p.put("ssl.trustStore.location", serverTrust.toString());
    p.put("ssl.trustStore.password", PASS);
    p.put("ssl.trustStore.type", "PKCS12");
    try (TestingServer server = ZkTestServers.standalone(ZkTestServers.NETTY_FACTORY, p)) {
      Config tls =
          ZkTestServers.config(Duration.ofSeconds(20))
              .tls(new Config.TlsFiles(clientPem, clientKey, serverPem))
              .build();
      assertTrue(server.getPort() != securePort, "the plain port stays open beside the TLS one");
      try (Store s = ZkTestServers.open("127.0.0.1:" + securePort, tls)) {
        s.put("tls/k", "secret".getBytes(UTF_8), null);
        assertEquals("secret", s.get("tls/k").valueAsString());
      }
      // Without a client certificate the server refuses the handshake: nothing is reachable.
      Config noCert =
          ZkTestServers.config(Duration.ofSeconds(2))
              .tls(new Config.TlsFiles(null, null, serverPem))
              .build();
      NotReachableException refused =
          assertThrows(
              NotReachableException.class,
              () -> ZkTestServers.open("127.0.0.1:" + securePort, noCert).close());
      assertTrue(
          refused.getMessage().contains("TLS handshake with 127.0.0.1:" + securePort + " failed"),
          refused.getMessage());
      // A plain client at the TLS port is told that the server speaks TLS.
      NotReachableException plain =
          assertThrows(
              NotReachableException.class,
              () ->
                  ZkTestServers.open(
                          "127.0.0.1:" + securePort,
                          ZkTestServers.config(Duration.ofSeconds(2)).build())
                      .close());
      assertTrue(plain.getMessage().contains("speaks TLS"), plain.getMessage());
    }
  }

  private Path keyPair(String name) throws Exception {
    Path p12 = dir.resolve(name + ".p12");
    keytool(
        "-genkeypair",
        "-alias",
        name,
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        "2",
        "-dname",
        "CN=" + name,
        "-ext",
        "SAN=ip:127.0.0.1,dns:localhost",
        "-keystore",
        p12.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        PASS,
        "-keypass",
        PASS);
    return p12;
  }

  private static String pem(String type, byte[] der) {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(UTF_8)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(proc.getInputStream().readAllBytes(), UTF_8);
    if (!proc.waitFor(60, TimeUnit.SECONDS) || proc.exitValue() != 0) {
      throw new IllegalStateException("keytool " + String.join(" ", args) + " failed: " + out);
    }
  }
}
