package io.libkv.zookeeper;

import io.libkv.store.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;

/**
 * TLS from {@link Config.TlsFiles}: ZooKeeper's client reads a PEM "key store" holding the private
 * key and the certificate chain in one file, so the two files are joined into a private temporary
 * file for the store's lifetime. The CA file is the PEM trust store (the JDK's trust store when
 * absent). Server host names are verified.
 */
final class ZkTls implements AutoCloseable {
  private static final ZkTls NONE = new ZkTls(null, null);

  private final Config.TlsFiles files;
  private final Path keyStore;

  private ZkTls(Config.TlsFiles files, Path keyStore) {
    this.files = files;
    this.keyStore = keyStore;
  }

  static ZkTls of(Config config) {
    Optional<Config.TlsFiles> f = config.tlsFiles();
    if (f.isEmpty()) {
      return NONE;
    }
    Config.TlsFiles files = f.get();
    if (files.certFile() == null) {
      return new ZkTls(files, null);
    }
    try {
      Path joined =
          Files.createTempFile(
              "libkv-zk-tls-",
              ".pem",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      String pem =
          Files.readString(files.keyFile(), StandardCharsets.US_ASCII).strip()
              + "\n"
              + Files.readString(files.certFile(), StandardCharsets.US_ASCII).strip()
              + "\n";
      Files.writeString(joined, pem, StandardCharsets.US_ASCII);
      return new ZkTls(files, joined);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read the TLS certificate "
              + files.certFile()
              + " or key "
              + files.keyFile()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  void configure(ZKClientConfig zc) {
    if (files == null) {
      return;
    }
    try (ClientX509Util x = new ClientX509Util()) {
      zc.setProperty(ZKClientConfig.SECURE_CLIENT, "true");
      // Set every store property, so that none is inherited from JVM-wide system properties.
      zc.setProperty(
          x.getSslKeystoreLocationProperty(), keyStore == null ? "" : keyStore.toString());
      zc.setProperty(x.getSslKeystoreTypeProperty(), "PEM");
      zc.setProperty(x.getSslKeystorePasswdProperty(), "");
      zc.setProperty(
          x.getSslTruststoreLocationProperty(),
          files.caFile() == null ? "" : files.caFile().toString());
      zc.setProperty(x.getSslTruststoreTypeProperty(), "PEM");
      zc.setProperty(x.getSslTruststorePasswdProperty(), "");
      zc.setProperty(x.getSslHostnameVerificationEnabledProperty(), "true");
    }
  }

  @Override
  public void close() {
    if (keyStore != null) {
      try {
        Files.deleteIfExists(keyStore);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot delete " + keyStore, e);
      }
    }
  }
}
