package io.libkv.spi;

import io.libkv.store.Config;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The one PEM reader of the project: certificates, unencrypted PKCS#8 private keys (EC, RSA,
 * Ed25519, Ed448), the checks every backend makes of them (the key is the certificate's, the
 * certificate is in its validity period), and key and trust managers made from them. Every error is
 * an {@link IllegalArgumentException} that starts with the caller's label ({@code who}, e.g. {@code
 * "etcd TLS"}) and names the file and what is wrong with it.
 *
 * <p>{@link #client} makes the material a client of a server backend presents and trusts, re-read
 * when its files change ({@link ReloadingTls}); the embedded backend adds its own checks on top of
 * the same reader.
 */
public final class PemTls {
  private static final Pattern PEM_KEY =
      Pattern.compile(
          "-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END \\1PRIVATE KEY-----");

  private PemTls() {}

  /**
   * Reads every certificate of a PEM file, the first one first.
   *
   * @param what the file's role in messages, e.g. {@code "certFile"}
   * @throws IllegalArgumentException if the file cannot be read, is not PEM certificates or holds
   *     none
   */
  public static List<X509Certificate> certificates(Path file, String what, String who) {
    byte[] pem = read(file, what, who);
    List<X509Certificate> out = new ArrayList<>();
    try {
      for (Certificate c :
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(pem))) {
        out.add((X509Certificate) c);
      }
    } catch (CertificateException e) {
      throw new IllegalArgumentException(
          who + ": " + what + " " + file + " is not a PEM certificate file: " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(who + ": " + what + " " + file + " holds no certificate");
    }
    return out;
  }

  /**
   * Reads an unencrypted PKCS#8 private key ({@code BEGIN PRIVATE KEY}).
   *
   * @throws IllegalArgumentException if the file cannot be read, holds no PEM key, holds an
   *     encrypted or PKCS#1 key (the message says how to convert it), or a key of another algorithm
   */
  public static PrivateKey privateKey(Path file, String who) {
    String pem = new String(read(file, "keyFile", who), StandardCharsets.US_ASCII);
    Matcher m = PEM_KEY.matcher(pem);
    if (!m.find()) {
      throw new IllegalArgumentException(
          who
              + ": keyFile "
              + file
              + " holds no PEM private key; give an unencrypted PKCS#8 key ('BEGIN PRIVATE KEY')");
    }
    if (!m.group(1).isEmpty()) {
      throw new IllegalArgumentException(
          who
              + ": keyFile "
              + file
              + " is a '"
              + m.group(1)
              + "PRIVATE KEY'; give an unencrypted PKCS#8 key ('BEGIN PRIVATE KEY'), e.g. from"
              + " `openssl pkcs8 -topk8 -nocrypt`");
    }
    byte[] der = Base64.getMimeDecoder().decode(m.group(2));
    for (String algorithm : List.of("EC", "RSA", "Ed25519", "Ed448")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException | RuntimeException e) {
        // not this algorithm; try the next
      }
    }
    throw new IllegalArgumentException(
        who + ": keyFile " + file + " is not a PKCS#8 EC, RSA, Ed25519 or Ed448 key");
  }

  /**
   * Checks that {@code key} is the private key of {@code cert} (it signs what the certificate's
   * public key verifies).
   *
   * @throws IllegalArgumentException naming both files if it is not
   */
  public static void checkKeyMatches(
      PrivateKey key, X509Certificate cert, Config.TlsFiles files, String who) {
    boolean matches;
    try {
      matches = signs(key, cert.getPublicKey());
    } catch (GeneralSecurityException e) {
      matches = false;
    }
    if (!matches) {
      throw new IllegalArgumentException(
          who
              + ": keyFile "
              + files.keyFile()
              + " is not the key of the certificate in certFile "
              + files.certFile()
              + " ("
              + cert.getSubjectX500Principal()
              + ")");
    }
  }

  private static boolean signs(PrivateKey key, PublicKey pub) throws GeneralSecurityException {
    if (!key.getAlgorithm().equals(pub.getAlgorithm())) {
      return false;
    }
    String alg =
        switch (key.getAlgorithm()) {
          case "EC" -> "SHA256withECDSA";
          case "RSA" -> "SHA256withRSA";
          default -> key.getAlgorithm();
        };
    byte[] probe = new byte[32];
    new SecureRandom().nextBytes(probe);
    Signature s = Signature.getInstance(alg);
    s.initSign(key);
    s.update(probe);
    byte[] sig = s.sign();
    Signature v = Signature.getInstance(alg);
    v.initVerify(pub);
    v.update(probe);
    return v.verify(sig);
  }

  /**
   * Checks that {@code cert} is valid now.
   *
   * @throws IllegalArgumentException naming the file and the validity period if it is not
   */
  public static void checkDates(X509Certificate cert, Path file, String who) {
    Date now = new Date();
    if (now.after(cert.getNotAfter()) || now.before(cert.getNotBefore())) {
      throw new IllegalArgumentException(
          who
              + ": the certificate in certFile "
              + file
              + " ("
              + cert.getSubjectX500Principal()
              + ") is valid only from "
              + cert.getNotBefore().toInstant()
              + " to "
              + cert.getNotAfter().toInstant());
    }
  }

  /** A PKIX trust manager trusting exactly {@code cas}. */
  public static X509ExtendedTrustManager trustManager(List<X509Certificate> cas)
      throws GeneralSecurityException {
    KeyStore ks = emptyStore();
    for (int i = 0; i < cas.size(); i++) {
      ks.setCertificateEntry("ca-" + i, cas.get(i));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(ks);
    return extendedTrust(tmf);
  }

  /** The JDK's default trust manager (its CA certificates). */
  public static X509ExtendedTrustManager defaultTrustManager() throws GeneralSecurityException {
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init((KeyStore) null);
    return extendedTrust(tmf);
  }

  private static X509ExtendedTrustManager extendedTrust(TrustManagerFactory tmf)
      throws GeneralSecurityException {
    for (TrustManager tm : tmf.getTrustManagers()) {
      if (tm instanceof X509ExtendedTrustManager x) {
        return x;
      }
    }
    throw new GeneralSecurityException("no X.509 trust manager");
  }

  /** A key manager presenting {@code chain} with {@code key}. */
  public static X509ExtendedKeyManager keyManager(PrivateKey key, List<X509Certificate> chain)
      throws GeneralSecurityException {
    KeyStore ks = emptyStore();
    // In memory only: the password protects nothing, PKCS12 just wants one.
    char[] password = "libkv".toCharArray();
    ks.setKeyEntry("libkv", key, password, chain.toArray(new X509Certificate[0]));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, password);
    for (KeyManager km : kmf.getKeyManagers()) {
      if (km instanceof X509ExtendedKeyManager x) {
        return x;
      }
    }
    throw new GeneralSecurityException("no X.509 key manager");
  }

  private static KeyStore emptyStore() throws GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try {
      ks.load(null, null);
    } catch (IOException e) {
      throw new GeneralSecurityException(e);
    }
    return ks;
  }

  private static byte[] read(Path file, String what, String who) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(who + ": cannot read " + what + " " + file + ": " + e, e);
    }
  }

  /**
   * A client's TLS material from {@code files}, re-read when they change: the certificate and key
   * it presents, if {@code certFile} is given, and the CAs of {@code caFile} it trusts (the JDK's
   * CAs without one). Checked now and at every reload: the files are readable, the key is the
   * certificate's, the certificate is valid.
   *
   * @param listener told of each reload or refused reload, to log it
   * @throws IllegalArgumentException naming the file that is missing, unreadable or unfit
   */
  public static Client client(Config.TlsFiles files, String who, ReloadingTls.Listener listener) {
    return new Client(
        files,
        new ReloadingTls(
            Arrays.asList(files.certFile(), files.keyFile(), files.caFile()),
            () -> clientMaterial(files, who),
            listener));
  }

  /**
   * Checks a client's files as {@link #client} does, for a backend whose own library reads them
   * (ZooKeeper's client): readable, the key the certificate's, the certificate valid.
   *
   * @throws IllegalArgumentException naming the file that is missing, unreadable or unfit
   */
  public static void check(Config.TlsFiles files, String who) {
    clientMaterial(files, who);
  }

  private static ReloadingTls.Material clientMaterial(Config.TlsFiles f, String who) {
    try {
      X509ExtendedTrustManager trust =
          f.caFile() == null
              ? defaultTrustManager()
              : trustManager(certificates(f.caFile(), "caFile", who));
      if (f.certFile() == null) {
        return new ReloadingTls.Material(null, trust);
      }
      List<X509Certificate> chain = certificates(f.certFile(), "certFile", who);
      PrivateKey key = privateKey(f.keyFile(), who);
      checkKeyMatches(key, chain.get(0), f, who);
      checkDates(chain.get(0), f.certFile(), who);
      return new ReloadingTls.Material(keyManager(key, chain), trust);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(who + ": cannot use " + f + ": " + e.getMessage(), e);
    }
  }

  /** A client's reloading TLS material ({@link #client}). */
  public static final class Client {
    private final Config.TlsFiles files;
    private final ReloadingTls material;

    private Client(Config.TlsFiles files, ReloadingTls material) {
      this.files = files;
      this.material = material;
    }

    /** The key manager presenting the current certificate, or {@code null} without one. */
    public X509ExtendedKeyManager keyManager() {
      return files.certFile() == null ? null : material.keyManager;
    }

    /** The trust manager checking servers with the current CAs. */
    public X509ExtendedTrustManager trustManager() {
      return material.trustManager;
    }

    /**
     * A TLS context over these managers: each new connection's handshake reads the files' current
     * material.
     */
    public SSLContext sslContext() {
      try {
        SSLContext ctx = SSLContext.getInstance("TLS");
        X509ExtendedKeyManager keys = keyManager();
        ctx.init(
            keys == null ? null : new KeyManager[] {keys},
            new TrustManager[] {trustManager()},
            null);
        return ctx;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("the JDK cannot make a TLS context: " + e, e);
      }
    }
  }
}
