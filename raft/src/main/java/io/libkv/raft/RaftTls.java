package io.libkv.raft;

import io.libkv.store.Backend;
import io.libkv.store.CallNotSupportedException;
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
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509KeyManager;
import javax.net.ssl.X509TrustManager;
import org.apache.ratis.grpc.GrpcTlsConfig;

/**
 * Mutual TLS for an embedded cluster, from {@link Config.TlsFiles}: every member and every client
 * presents the certificate of {@code certFile} (its chain) with the PKCS#8 key of {@code keyFile},
 * and accepts only peers whose certificate chains to a CA of {@code caFile}. The files are read and
 * checked when a member or store is opened, so a wrong file fails there with a message naming it,
 * not later as a refused connection; afterwards they are read again, and checked the same way, at
 * the next handshake after one of them changed, so certificates, CAs and revocation lists ({@code
 * embedded.tlsCrl}, {@link RevokingTrustManager}) are replaced without a restart ({@link
 * ReloadingTls}).
 *
 * <p><b>Members and clients are told apart.</b> A member's certificate names its member id (a
 * subject alternative name {@code URI:libkv://member/<id>}, {@link MemberCertificates}); a member
 * refuses to start with a certificate that names no member or another one, refuses peer calls from
 * a certificate that does not name the member the call claims to come from ({@link
 * PeerCertificateCheck}), and members and stores connect only to servers whose certificate names a
 * member. A client's certificate names none: it may read and write through the client service, not
 * vote, append or serve.
 *
 * <p>What is refused, and why:
 *
 * <ul>
 *   <li>A {@link javax.net.ssl.SSLContext}: Ratis' gRPC transport builds its own (Netty) TLS
 *       context from a key manager and a trust manager, which a finished {@code SSLContext} does
 *       not hand out: {@link CallNotSupportedException}.
 *   <li>The {@code netty} transport: Ratis 3.3.0 has TLS only on gRPC: {@link
 *       CallNotSupportedException}.
 *   <li>Files without a certificate and key, or without a CA file: the cluster's TLS is always
 *       mutual, and trusting the JDK's public CAs would let any certificate they ever signed in:
 *       {@link IllegalArgumentException}.
 * </ul>
 */
final class RaftTls {
  private static final Pattern PEM_KEY =
      Pattern.compile(
          "-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END \\1PRIVATE KEY-----");

  final Config.TlsFiles files;
  final X509ExtendedKeyManager keyManager;
  final X509ExtendedTrustManager trustManager;
  final GrpcTlsConfig grpc;

  private final AtomicReference<Function<String, String>> members;

  private RaftTls(
      Config.TlsFiles files,
      ReloadingTls material,
      AtomicReference<Function<String, String>> members) {
    this.files = files;
    this.members = members;
    this.keyManager = material.keyManager;
    this.trustManager = material.trustManager;
    this.grpc = new GrpcTlsConfig(keyManager, trustManager, true);
  }

  /**
   * Tells the trust manager which member serves which address, so that a server at a member's
   * address must present that member's certificate: {@code memberAt} maps {@code host:port} to a
   * member id, or to {@code null} for an address it does not know (any member's certificate is then
   * accepted there). Read at each handshake; the last call wins.
   */
  void knowMembers(Function<String, String> memberAt) {
    members.set(memberAt);
  }

  /**
   * Reads the TLS settings of {@code config}, or returns {@code null} if it has none.
   *
   * @param grpcTransport whether the members talk gRPC (the only transport with TLS)
   * @throws CallNotSupportedException for an {@code SSLContext}, TLS on the netty transport, or a
   *     username or password (the cluster has no users: certificates are its only authentication,
   *     and credentials silently ignored would let a caller believe they protect it)
   * @throws IllegalArgumentException naming the file that is missing, unreadable or unfit
   */
  static RaftTls of(Config config, boolean grpcTransport) {
    if (config.username().isPresent() || config.password().isPresent()) {
      throw new CallNotSupportedException(
          Backend.EMBEDDED,
          "Config.username/password",
          "the embedded cluster has no users: stores and members authenticate with client"
              + " certificates (Config.tls with cert, key and CA files); remove the username and"
              + " password");
    }
    String crl = config.options().get(RaftSettings.TLS_CRL);
    if (!config.tlsEnabled()) {
      if (crl != null) {
        throw new IllegalArgumentException(
            RaftSettings.TLS_CRL + " revokes certificates: it needs TLS (Config.tls) as well");
      }
      return null;
    }
    if (config.sslContext().isPresent()) {
      throw new CallNotSupportedException(
          Backend.EMBEDDED,
          "TLS from an SSLContext",
          "Ratis' gRPC transport needs the key and trust material itself, which an SSLContext does"
              + " not expose; give Config.TlsFiles (PEM certificate chain, PKCS#8 key, CA) instead");
    }
    if (!grpcTransport) {
      throw new CallNotSupportedException(
          Backend.EMBEDDED,
          "TLS on embedded.transport=netty",
          "Ratis 3.3.0 has TLS on its gRPC transport only; use embedded.transport=grpc (or auto,"
              + " the default, which picks gRPC when TLS is configured)");
    }
    Config.TlsFiles f = config.tlsFiles().orElseThrow();
    if (f.certFile() == null) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS is mutual: every member and client needs its own certificate and key"
              + " (Config.TlsFiles certFile and keyFile), signed by the cluster's CA");
    }
    if (f.caFile() == null) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS needs Config.TlsFiles caFile: the CA that signs the cluster's"
              + " certificates (the JDK's public CAs are never trusted for a cluster)");
    }
    Path crlFile = crl == null ? null : Path.of(crl);
    String self = config.nodeId().orElse(null);
    AtomicReference<Function<String, String>> members = new AtomicReference<>(address -> null);
    Function<String, String> memberAt = address -> members.get().apply(address);
    return new RaftTls(
        f,
        new ReloadingTls(
            java.util.Arrays.asList(f.certFile(), f.keyFile(), f.caFile(), crlFile),
            () -> load(f, crlFile, self, memberAt)),
        members);
  }

  /**
   * Makes the key and trust managers from the files, checking them (see the class comment).
   *
   * @param self the member these files are for, or {@code null} for a client: a member's
   *     certificate must name it ({@link MemberCertificates})
   * @param memberAt the member at an address {@code host:port}, or {@code null} (see {@link
   *     #knowMembers})
   * @throws IllegalArgumentException naming the file that is missing, unreadable or unfit
   */
  private static ReloadingTls.Material load(
      Config.TlsFiles f, Path crl, String self, Function<String, String> memberAt) {
    try {
      List<X509Certificate> chain = certificates(f.certFile(), "certFile");
      PrivateKey key = privateKey(f.keyFile());
      List<X509Certificate> cas = certificates(f.caFile(), "caFile");
      checkKeyMatches(key, chain.get(0), f);
      checkDates(chain.get(0), f.certFile());
      if (self != null) {
        MemberCertificates.checkOwn(chain.get(0), self, f.certFile());
      }
      X509TrustManager pkix = trustManager(cas);
      if (!(pkix instanceof X509ExtendedTrustManager trust)) {
        throw new GeneralSecurityException("the JDK's PKIX trust manager is not an extended one");
      }
      if (crl != null) {
        trust = new RevokingTrustManager(trust, cas, crl);
      }
      checkSignedByCa(trust, chain, key, f);
      trust = MemberCertificates.requireMemberServers(trust, memberAt);
      if (!(keyManager(key, chain) instanceof X509ExtendedKeyManager keys)) {
        throw new GeneralSecurityException("the JDK's key manager is not an extended one");
      }
      return new ReloadingTls.Material(keys, trust);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS: cannot use " + f + ": " + e.getMessage(), e);
    }
  }

  private static byte[] read(Path file, String what) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS: cannot read " + what + " " + file + ": " + e, e);
    }
  }

  private static List<X509Certificate> certificates(Path file, String what) {
    byte[] pem = read(file, what);
    List<X509Certificate> out = new ArrayList<>();
    try {
      for (Certificate c :
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(pem))) {
        out.add((X509Certificate) c);
      }
    } catch (CertificateException e) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS: "
              + what
              + " "
              + file
              + " is not a PEM certificate file: "
              + e.getMessage(),
          e);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS: " + what + " " + file + " holds no certificate");
    }
    return out;
  }

  private static PrivateKey privateKey(Path file) {
    String pem = new String(read(file, "keyFile"), StandardCharsets.US_ASCII);
    Matcher m = PEM_KEY.matcher(pem);
    if (!m.find()) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS: keyFile " + file + " holds no PEM private key");
    }
    if (!m.group(1).isEmpty()) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS: keyFile "
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
        "EMBEDDED TLS: keyFile " + file + " is not a PKCS#8 EC, RSA, Ed25519 or Ed448 key");
  }

  private static void checkKeyMatches(PrivateKey key, X509Certificate cert, Config.TlsFiles f)
      throws GeneralSecurityException {
    if (!signs(key, cert.getPublicKey())) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS: keyFile "
              + f.keyFile()
              + " is not the key of the certificate in certFile "
              + f.certFile()
              + " ("
              + cert.getSubjectX500Principal()
              + ")");
    }
  }

  private static boolean signs(PrivateKey key, PublicKey pub) throws GeneralSecurityException {
    String alg =
        switch (key.getAlgorithm()) {
          case "EC" -> "SHA256withECDSA";
          case "RSA" -> "SHA256withRSA";
          default -> key.getAlgorithm();
        };
    if (!key.getAlgorithm().equals(pub.getAlgorithm())) {
      return false;
    }
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

  private static void checkDates(X509Certificate cert, Path file) {
    Date now = new Date();
    if (now.after(cert.getNotAfter()) || now.before(cert.getNotBefore())) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS: the certificate in certFile "
              + file
              + " ("
              + cert.getSubjectX500Principal()
              + ") is valid only from "
              + cert.getNotBefore().toInstant()
              + " to "
              + cert.getNotAfter().toInstant());
    }
  }

  private static X509TrustManager trustManager(List<X509Certificate> cas)
      throws GeneralSecurityException {
    KeyStore ks = emptyStore();
    for (int i = 0; i < cas.size(); i++) {
      ks.setCertificateEntry("ca-" + i, cas.get(i));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(ks);
    for (TrustManager tm : tmf.getTrustManagers()) {
      if (tm instanceof X509TrustManager x) {
        return x;
      }
    }
    throw new GeneralSecurityException("no X.509 trust manager");
  }

  /**
   * The member's own certificate must chain to a CA it trusts: a certificate the cluster would
   * refuse is a configuration error, said here rather than as refused connections later.
   */
  private static void checkSignedByCa(
      X509TrustManager trust, List<X509Certificate> chain, PrivateKey key, Config.TlsFiles f) {
    try {
      String authType = key.getAlgorithm().equals("RSA") ? "RSA" : "EC";
      trust.checkClientTrusted(chain.toArray(new X509Certificate[0]), authType);
    } catch (CertificateException e) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS: the certificate in certFile "
              + f.certFile()
              + " ("
              + chain.get(0).getSubjectX500Principal()
              + ") is not trusted by the CAs in caFile "
              + f.caFile()
              + " for client use: "
              + e.getMessage(),
          e);
    }
  }

  private static X509KeyManager keyManager(PrivateKey key, List<X509Certificate> chain)
      throws GeneralSecurityException {
    KeyStore ks = emptyStore();
    // In memory only: the password protects nothing, PKCS12 just wants one.
    char[] password = "libkv".toCharArray();
    ks.setKeyEntry("libkv", key, password, chain.toArray(new X509Certificate[0]));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, password);
    for (KeyManager km : kmf.getKeyManagers()) {
      if (km instanceof X509KeyManager x) {
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
}
