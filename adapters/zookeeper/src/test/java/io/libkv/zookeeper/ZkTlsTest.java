package io.libkv.zookeeper;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key store ZooKeeper's client reads is joined from the PEM files, checked by the project's PEM
 * reader, and joined again before a new session when the files changed and still fit.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ZkTlsTest {
  @TempDir static Path dir;
  static Path certA;
  static Path keyA;
  static Path certB;
  static Path keyB;

  @BeforeAll
  static void makeCertificates() {
    io.libkv.spi.SelfSigned a = io.libkv.spi.SelfSigned.make(dir, "a");
    io.libkv.spi.SelfSigned b = io.libkv.spi.SelfSigned.make(dir, "b");
    certA = a.certFile();
    keyA = a.keyFile();
    certB = b.certFile();
    keyB = b.keyFile();
  }

  private static Path keyStoreOf(ZkTls tls) {
    ZKClientConfig zc = new ZKClientConfig();
    tls.configure(zc);
    try (ClientX509Util x = new ClientX509Util()) {
      return Path.of(zc.getProperty(x.getSslKeystoreLocationProperty()));
    }
  }

  private static void rewrite(Path from, Path to, int secondsLater) throws Exception {
    Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    Files.setLastModifiedTime(to, FileTime.from(Instant.now().plusSeconds(secondsLater)));
  }

  @Test
  void rotatedFilesAreJoinedAgainBeforeTheNextSessionAndAHalfWrittenPairIsNot() throws Exception {
    Path cert = dir.resolve("rotating.pem");
    Path key = dir.resolve("rotating-key.pem");
    Files.copy(certA, cert, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(keyA, key, StandardCopyOption.REPLACE_EXISTING);
    String a = Files.readString(certA).strip();
    String b = Files.readString(certB).strip();
    Path joined;
    try (ZkTls tls = ZkTls.of(Config.builder().tls(new Config.TlsFiles(cert, key, null)).build())) {
      joined = keyStoreOf(tls);
      assertTrue(Files.readString(joined).contains(a));

      rewrite(keyB, key, 5); // the new key beside the old certificate: not joined
      tls.refresh();
      assertTrue(Files.readString(joined).contains(a));
      assertFalse(Files.readString(joined).contains(Files.readString(keyB).strip()));

      rewrite(certB, cert, 10);
      tls.refresh();
      String now = Files.readString(joined);
      assertTrue(now.contains(b) && now.contains(Files.readString(keyB).strip()), now);
    }
    assertFalse(Files.exists(joined), "the joined key store is deleted with the store");
  }

  @Test
  void aKeyThatIsNotTheCertificatesIsRefusedWhenTheStoreOpens() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ZkTls.of(Config.builder().tls(new Config.TlsFiles(certA, keyB, null)).build()));
    assertTrue(e.getMessage().startsWith("ZooKeeper TLS: keyFile " + keyB), e.getMessage());
  }
}
