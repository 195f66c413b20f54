package io.libkv.consul;

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
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Builds an {@link SSLContext} from PEM files ({@link Config.TlsFiles}). */
final class PemTls {
  // One context per set of files, so that stores opened with the same files share an HTTP client.
  private static final Map<Config.TlsFiles, SSLContext> CONTEXTS = new ConcurrentHashMap<>();

  private PemTls() {}

  /** Returns the context for {@code files}, built once per distinct set of paths. */
  static SSLContext cached(Config.TlsFiles files) {
    return CONTEXTS.computeIfAbsent(files, PemTls::context);
  }

  /**
   * Returns a TLS context that trusts {@code caFile} (or the JDK's CAs) and presents {@code
   * certFile}/{@code keyFile} (PKCS#8, RSA or EC) when given.
   *
   * @throws IllegalArgumentException naming the file that cannot be read or parsed
   */
  static SSLContext context(Config.TlsFiles files) {
    try {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      if (files.caFile() != null) {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        int i = 0;
        for (Certificate c : certificates(files.caFile())) {
          trust.setCertificateEntry("ca-" + i++, c);
        }
        tmf.init(trust);
      } else {
        tmf.init((KeyStore) null);
      }
      KeyManagerFactory kmf = null;
      if (files.certFile() != null) {
        char[] pass = new char[0];
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        List<Certificate> chain = certificates(files.certFile());
        ks.setKeyEntry(
            "client", privateKey(files.keyFile()), pass, chain.toArray(new Certificate[0]));
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pass);
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("cannot build TLS context from " + files + ": " + e, e);
    }
  }

  private static List<Certificate> certificates(Path file)
      throws IOException, GeneralSecurityException {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    Collection<? extends Certificate> certs =
        cf.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(file)));
    if (certs.isEmpty()) {
      throw new IllegalArgumentException("no certificate in " + file);
    }
    return new ArrayList<>(certs);
  }

  private static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
    String pem = Files.readString(file, StandardCharsets.US_ASCII);
    String begin = "-----BEGIN PRIVATE KEY-----";
    int from = pem.indexOf(begin);
    int to = pem.indexOf("-----END PRIVATE KEY-----");
    if (from < 0 || to < 0) {
      throw new IllegalArgumentException(
          file + " is not a PKCS#8 PEM key (BEGIN PRIVATE KEY); convert it with openssl pkcs8");
    }
    byte[] der = Base64.getMimeDecoder().decode(pem.substring(from + begin.length(), to).strip());
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    GeneralSecurityException last = null;
    for (String alg : List.of("RSA", "EC", "Ed25519")) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw last;
  }
}
