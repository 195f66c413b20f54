package io.libkv.raft;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Function;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The member role of a certificate: a member's certificate names its member id in a subject
 * alternative name of type URI, {@code libkv://member/<id>} (for example {@code
 * libkv://member/n1}); a client's certificate names none. One rule, used on both sides of a
 * connection: a member refuses peer calls (votes, appends, snapshots, ReadIndex) from a certificate
 * that names no member or another member than the call claims ({@link PeerCertificateCheck}), and
 * members and stores refuse to talk to a server whose certificate names no member ({@link
 * #requireMemberServers}).
 */
final class MemberCertificates {
  /** The URI prefix of a member's subject alternative name. */
  static final String URI_PREFIX = "libkv://member/";

  private static final int SAN_URI = 6;

  private MemberCertificates() {}

  /**
   * The member id {@code cert} names, or {@code null} if it names none.
   *
   * @throws CertificateException if it names more than one
   */
  static String memberId(X509Certificate cert) throws CertificateException {
    Collection<List<?>> names;
    try {
      names = cert.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      throw new CertificateException(
          "cannot read the subject alternative names of " + subject(cert) + ": " + e.getMessage(),
          e);
    }
    if (names == null) {
      return null;
    }
    TreeSet<String> ids = new TreeSet<>();
    for (List<?> n : names) {
      if (n.size() >= 2
          && n.get(0) instanceof Integer type
          && type == SAN_URI
          && n.get(1) instanceof String uri
          && uri.startsWith(URI_PREFIX)
          && uri.length() > URI_PREFIX.length()) {
        ids.add(uri.substring(URI_PREFIX.length()));
      }
    }
    if (ids.size() > 1) {
      throw new CertificateException(
          subject(cert) + " names several members " + ids + ": a member's certificate names one");
    }
    return ids.isEmpty() ? null : ids.first();
  }

  /** The certificate's subject, for messages. */
  /** The certificate the other side of a TLS session presented, or {@code null} if none. */
  static X509Certificate peerCertificate(javax.net.ssl.SSLSession session) {
    if (session == null) {
      return null;
    }
    try {
      java.security.cert.Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
    } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
      return null;
    }
  }

  static String subject(X509Certificate cert) {
    return "'" + cert.getSubjectX500Principal().getName() + "'";
  }

  /**
   * Checks that the certificate of member {@code self} names it.
   *
   * @throws IllegalArgumentException saying what the certificate names instead and what it needs
   */
  static void checkOwn(X509Certificate cert, String self, Object certFile) {
    String named;
    try {
      named = memberId(cert);
    } catch (CertificateException e) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS: certFile " + certFile + ": " + e.getMessage());
    }
    if (!self.equals(named)) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS: member "
              + self
              + "'s certificate in certFile "
              + certFile
              + " ("
              + subject(cert)
              + ") "
              + (named == null ? "names no member" : "names member " + named)
              + ": a member's certificate carries the subject alternative name URI:"
              + URI_PREFIX
              + self
              + " (client certificates carry none)");
    }
  }

  /**
   * Wraps a trust manager so that a server (the other end of a connection this process opens) must
   * also present a member's certificate, and at a member's address the certificate of that member:
   * only members serve a cluster, each on its own address.
   *
   * @param memberAt the member whose address {@code host:port} is, or {@code null} if it is none
   *     this process knows (then any member's certificate is accepted there)
   */
  static X509ExtendedTrustManager requireMemberServers(
      X509ExtendedTrustManager trust, Function<String, String> memberAt) {
    return new MemberServers(trust, memberAt);
  }

  private static void checkServer(
      X509Certificate[] chain, String address, Function<String, String> memberAt)
      throws CertificateException {
    String where = address == null ? "" : " at " + address;
    if (chain == null || chain.length == 0) {
      throw new CertificateException("the server" + where + " presented no certificate");
    }
    if (memberId(chain[0]) == null) {
      throw new CertificateException(
          "the server"
              + where
              + " presented "
              + subject(chain[0])
              + ", a certificate that names no member (no subject alternative name URI:"
              + URI_PREFIX
              + "<id>): only members serve the cluster");
    }
    String expected = address == null ? null : memberAt.apply(address);
    String named = memberId(chain[0]);
    if (expected != null && !expected.equals(named)) {
      throw new CertificateException(
          "the server"
              + where
              + " presented "
              + subject(chain[0])
              + ", member "
              + named
              + "'s certificate, but that address is member "
              + expected
              + "'s");
    }
  }

  private static final class MemberServers extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager trust;
    private final Function<String, String> memberAt;

    MemberServers(X509ExtendedTrustManager trust, Function<String, String> memberAt) {
      this.trust = trust;
      this.memberAt = memberAt;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      trust.checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      trust.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      trust.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      trust.checkServerTrusted(chain, authType);
      checkServer(chain, null, memberAt);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      trust.checkServerTrusted(chain, authType, socket);
      checkServer(chain, null, memberAt);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      trust.checkServerTrusted(chain, authType, engine);
      checkServer(
          chain,
          engine == null || engine.getPeerHost() == null
              ? null
              : engine.getPeerHost() + ":" + engine.getPeerPort(),
          memberAt);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return trust.getAcceptedIssuers();
    }
  }
}
