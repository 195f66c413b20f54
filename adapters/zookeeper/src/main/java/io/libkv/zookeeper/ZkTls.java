package io.libkv.zookeeper;

import io.libkv.spi.PemTls;
import io.libkv.store.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS from {@link Config.TlsFiles}: ZooKeeper's client reads a PEM "key store" holding the private
 * key and the certificate chain in one file, so the two files are joined into a private temporary
 * file for the store's lifetime. The CA file is the PEM trust store (the JDK's trust store when
 * absent). Server host names are verified.
 *
 * <p>The files are checked when the store opens, by the project's PEM reader ({@link PemTls}): a
 * key that is not the certificate's, an expired certificate or an unreadable file is refused there,
 * naming it. ZooKeeper's client makes its TLS context once per session from the files; before each
 * new session (a store's or a lock's, or after an expiry) {@link #refresh} joins the key and
 * certificate again if they changed and still fit, so a rotated certificate is used from the next
 * session on. A session open at the rotation keeps its context.
 */
final class ZkTls implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ZkTls.class);
  private static final String WHO = "ZooKeeper TLS";
  private static final ZkTls NONE = new ZkTls(null, null);

  private final Config.TlsFiles files;
  private final Path keyStore;
  // The sizes and times of the files the key store was last joined from, or tried.
  private String joined;

  private ZkTls(Config.TlsFiles files, Path keyStore) {
    this.files = files;
    this.keyStore = keyStore;
  }

  /**
   * Reads and checks the TLS files of {@code config}.
   *
   * @throws IllegalArgumentException naming a file that is missing, unreadable or unfit
   */
  static ZkTls of(Config config) {
    Optional<Config.TlsFiles> f = config.tlsFiles();
    if (f.isEmpty()) {
      return NONE;
    }
    Config.TlsFiles files = f.get();
    PemTls.check(files, WHO);
    if (files.certFile() == null) {
      return new ZkTls(files, null);
    }
    Path joined;
    try {
      joined =
          Files.createTempFile(
              "libkv-zk-tls-",
              ".pem",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the joined TLS key store file", e);
    }
    ZkTls tls = new ZkTls(files, joined);
    try {
      tls.join(tls.stamp());
    } catch (RuntimeException e) {
      tls.close();
      throw e;
    }
    return tls;
  }

  /**
   * Joins the key and certificate again if either changed since the last join and they still fit
   * (otherwise the previous join stays, and a warning says why). Called before each new ZooKeeper
   * session.
   */
  synchronized void refresh() {
    if (keyStore == null) {
      return;
    }
    String now = stamp();
    if (now.equals(joined)) {
      return;
    }
    try {
      PemTls.check(files, WHO);
      join(now);
      LOG.info("ZooKeeper TLS files {} changed: new sessions use them", files);
    } catch (RuntimeException e) {
      joined = now;
      LOG.warn(
          "ZooKeeper TLS files {} changed but cannot be used, keeping the previous ones: {}",
          files,
          e.getMessage());
    }
  }

  private void join(String stamp) {
    try {
      String pem =
          Files.readString(files.keyFile(), StandardCharsets.US_ASCII).strip()
              + "\n"
              + Files.readString(files.certFile(), StandardCharsets.US_ASCII).strip()
              + "\n";
      Path next = keyStore.resolveSibling(keyStore.getFileName() + ".next");
      Files.writeString(next, pem, StandardCharsets.US_ASCII);
      Files.setPosixFilePermissions(next, PosixFilePermissions.fromString("rw-------"));
      Files.move(
          next, keyStore, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      joined = stamp;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          WHO
              + ": cannot read the certificate "
              + files.certFile()
              + " or key "
              + files.keyFile()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private String stamp() {
    List<String> out = new ArrayList<>();
    for (Path f : new Path[] {files.certFile(), files.keyFile()}) {
      try {
        BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
        out.add(a.size() + "@" + a.lastModifiedTime().toMillis());
      } catch (IOException e) {
        out.add("unreadable");
      }
    }
    return out.toString();
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
