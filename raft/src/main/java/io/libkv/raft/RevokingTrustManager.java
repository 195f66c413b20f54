package io.libkv.raft;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CRL;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The cluster's trust minus revoked certificates: every check of the wrapped trust manager (the
 * chain to a cluster CA, the host name), then every certificate of the peer's chain against the
 * certificate revocation lists of one file ({@code embedded.tlsCrl}: PEM or DER, one or more CRLs).
 * Used on both sides of every connection, members' and clients', so a revoked certificate can
 * neither connect to a member nor serve as one; checked at each new connection's handshake
 * (connections already open stay open until they close).
 *
 * <p>Each CRL must be signed by a CA of the cluster's CA file: one that is not is refused when the
 * file is read. The lists are read once; {@link io.libkv.spi.ReloadingTls} makes a new one when the
 * file changes. Immutable.
 */
final class RevokingTrustManager extends X509ExtendedTrustManager {
  private final X509ExtendedTrustManager trust;
  private final List<X509Certificate> cas;
  private final Path file;
  private final List<X509CRL> crls;

  /**
   * @throws IllegalArgumentException naming the file if it cannot be read, holds no CRL, or holds
   *     one that no CA of {@code cas} signed
   */
  RevokingTrustManager(X509ExtendedTrustManager trust, List<X509Certificate> cas, Path file) {
    this.trust = trust;
    this.cas = List.copyOf(cas);
    this.file = file;
    try {
      this.crls = read();
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "EMBEDDED TLS: cannot use the revocation list " + file + ": " + e.getMessage(), e);
    }
  }

  private List<X509CRL> read() throws IOException, GeneralSecurityException {
    byte[] bytes = Files.readAllBytes(file);
    List<X509CRL> out = new ArrayList<>();
    for (CRL c :
        CertificateFactory.getInstance("X.509").generateCRLs(new ByteArrayInputStream(bytes))) {
      X509CRL x = (X509CRL) c;
      verify(x);
      out.add(x);
    }
    if (out.isEmpty()) {
      throw new GeneralSecurityException("it holds no certificate revocation list");
    }
    return List.copyOf(out);
  }

  private void verify(X509CRL crl) throws GeneralSecurityException {
    for (X509Certificate ca : cas) {
      if (ca.getSubjectX500Principal().equals(crl.getIssuerX500Principal())) {
        try {
          crl.verify(ca.getPublicKey());
          return;
        } catch (GeneralSecurityException e) {
          // Another CA of the same name may have signed it.
        }
      }
    }
    throw new GeneralSecurityException(
        "the list of " + crl.getIssuerX500Principal() + " is not signed by a CA of the cluster");
  }

  private void checkRevocation(X509Certificate[] chain) throws CertificateException {
    if (chain == null) {
      return;
    }
    for (X509CRL crl : crls) {
      for (X509Certificate c : chain) {
        if (crl.getIssuerX500Principal().equals(c.getIssuerX500Principal()) && crl.isRevoked(c)) {
          throw new CertificateException(
              "certificate "
                  + c.getSubjectX500Principal()
                  + " (serial "
                  + c.getSerialNumber().toString(16)
                  + ") is revoked by "
                  + file);
        }
      }
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    trust.checkClientTrusted(chain, authType);
    checkRevocation(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    trust.checkServerTrusted(chain, authType);
    checkRevocation(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    trust.checkClientTrusted(chain, authType, socket);
    checkRevocation(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    trust.checkServerTrusted(chain, authType, socket);
    checkRevocation(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    trust.checkClientTrusted(chain, authType, engine);
    checkRevocation(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    trust.checkServerTrusted(chain, authType, engine);
    checkRevocation(chain);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return trust.getAcceptedIssuers();
  }
}
