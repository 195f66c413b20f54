package io.libkv.raft;

import io.libkv.spi.PemTls;
import io.libkv.spi.ReloadingTls;
import io.libkv.store.Backend;
import io.libkv.store.CallNotSupportedException;
import io.libkv.store.Config;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
  private static final Logger LOG = LoggerFactory.getLogger(RaftTls.class);
  private static final String WHO = "EMBEDDED TLS";

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
            () -> load(f, crlFile, self, memberAt),
            ReloadingTls.Listener.logged("EMBEDDED TLS", LOG::info, LOG::warn)),
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
      List<X509Certificate> chain = PemTls.certificates(f.certFile(), "certFile", WHO);
      PrivateKey key = PemTls.privateKey(f.keyFile(), WHO);
      List<X509Certificate> cas = PemTls.certificates(f.caFile(), "caFile", WHO);
      PemTls.checkKeyMatches(key, chain.get(0), f, WHO);
      PemTls.checkDates(chain.get(0), f.certFile(), WHO);
      if (self != null) {
        MemberCertificates.checkOwn(chain.get(0), self, f.certFile());
      }
      X509ExtendedTrustManager trust = PemTls.trustManager(cas);
      if (crl != null) {
        trust = new RevokingTrustManager(trust, cas, crl);
      }
      checkSignedByCa(trust, chain, key, f);
      trust = MemberCertificates.requireMemberServers(trust, memberAt);
      return new ReloadingTls.Material(PemTls.keyManager(key, chain), trust);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS: cannot use " + f + ": " + e.getMessage(), e);
    }
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
}
