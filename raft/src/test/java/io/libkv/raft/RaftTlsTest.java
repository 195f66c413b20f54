package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.CallNotSupportedException;
import io.libkv.store.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the embedded backend does with a TLS {@link Config} before anything listens or connects:
 * what cannot work is refused with a message naming the reason or the file, never run in clear text
 * while the caller believes it is encrypted.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RaftTlsTest {
  @TempDir Path dir;

  private static final List<String> PEERS = List.of("n1=127.0.0.1:1");

  private List<Executable> everyEntryPoint(Config.Builder tls) {
    Config client = tls.build();
    Config node = tls.nodeId("n1").dataDir(dir.resolve("member")).build();
    return List.of(
        () -> LibKV.newStore(Backend.EMBEDDED, PEERS, client).close(),
        () -> LibKV.newStore(Backend.EMBEDDED, PEERS, node).close(),
        () -> EmbeddedNode.start(PEERS, node).close());
  }

  @Test
  void anSslContextIsRefusedOnEveryEntryPointBecauseRatisCannotUseOne() throws Exception {
    for (Executable call : everyEntryPoint(Config.builder().tls(SSLContext.getDefault()))) {
      CallNotSupportedException e = assertThrows(CallNotSupportedException.class, call);
      assertTrue(e.getMessage().contains("SSLContext"), e.getMessage());
      assertTrue(e.getMessage().contains("TlsFiles"), e.getMessage());
    }
  }

  @Test
  void credentialsAreRefusedOnEveryEntryPointBecauseTheClusterHasNoUsers() throws Exception {
    for (Config.Builder b :
        List.of(Config.builder().username("app"), Config.builder().password("secret"))) {
      for (Executable call : everyEntryPoint(b)) {
        CallNotSupportedException e = assertThrows(CallNotSupportedException.class, call);
        assertTrue(e.getMessage().contains("username/password"), e.getMessage());
        assertTrue(e.getMessage().contains("certificates"), e.getMessage());
      }
    }
  }

  @Test
  void filesThatCannotBeUsedAreRefusedNamingTheFileOnEveryEntryPoint() {
    Path missing = dir.resolve("missing.pem");
    for (Executable call :
        everyEntryPoint(Config.builder().tls(new Config.TlsFiles(missing, missing, missing)))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
      assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }
  }

  @Test
  void goodFilesGiveAMutualTlsConfiguration() {
    TestPki ca = TestPki.newCa("ca", dir);
    RaftTls tls = RaftTls.of(Config.builder().tls(ca.issue("m", dir)).build(), true);
    assertNotNull(tls);
    assertTrue(tls.grpc.getMtlsEnabled());
    assertNull(RaftTls.of(Config.defaults(), true));
  }

  @Test
  void everyUnusableSettingIsRefusedWithItsReason() throws Exception {
    TestPki ca = TestPki.newCa("ca", dir);
    TestPki other = TestPki.newCa("other", dir.resolve("other"));
    Config.TlsFiles good = ca.issue("m", dir);
    Config.TlsFiles otherFiles = other.issue("x", dir.resolve("other"));

    refused(
        CallNotSupportedException.class,
        Config.builder().tls(good).option(RaftSettings.TRANSPORT, "netty"),
        "gRPC");
    refused(
        IllegalArgumentException.class,
        Config.builder().tls(new Config.TlsFiles(null, null, ca.caFile)),
        "certificate and key");
    refused(
        IllegalArgumentException.class,
        Config.builder().tls(new Config.TlsFiles(good.certFile(), good.keyFile(), null)),
        "caFile");
    // The key of another certificate.
    refused(
        IllegalArgumentException.class,
        Config.builder().tls(new Config.TlsFiles(good.certFile(), otherFiles.keyFile(), ca.caFile)),
        "is not the key of the certificate");
    // A certificate the cluster's CA did not sign.
    refused(
        IllegalArgumentException.class,
        Config.builder()
            .tls(new Config.TlsFiles(otherFiles.certFile(), otherFiles.keyFile(), ca.caFile)),
        "not trusted by the CAs in caFile");
    // A key in the traditional (non-PKCS#8) form, and files that hold no PEM at all.
    Path rsaStyle = dir.resolve("rsa-key.pem");
    Files.writeString(
        rsaStyle, Files.readString(good.keyFile()).replace("PRIVATE KEY", "EC PRIVATE KEY"));
    refused(
        IllegalArgumentException.class,
        Config.builder().tls(new Config.TlsFiles(good.certFile(), rsaStyle, ca.caFile)),
        "PKCS#8");
    Path junk = dir.resolve("junk.pem");
    Files.writeString(junk, "not a certificate\n");
    refused(
        IllegalArgumentException.class,
        Config.builder().tls(new Config.TlsFiles(junk, good.keyFile(), ca.caFile)),
        junk.toString());
    refused(
        IllegalArgumentException.class,
        Config.builder().tls(new Config.TlsFiles(good.certFile(), junk, ca.caFile)),
        "no PEM private key");
    refused(
        IllegalArgumentException.class,
        Config.builder().tls(new Config.TlsFiles(good.certFile(), good.keyFile(), junk)),
        junk.toString());
  }

  private static void refused(
      Class<? extends RuntimeException> type, Config.Builder config, String says) {
    RuntimeException e = assertThrows(type, () -> RaftSettings.of(config.build()));
    assertTrue(e.getMessage().contains(says), e.getMessage());
  }
}
