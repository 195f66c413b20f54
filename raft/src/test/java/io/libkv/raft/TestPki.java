package io.libkv.raft;

import io.libkv.store.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away certificate authority made at test time (EC P-256, BouncyCastle's certificate
 * builder; nothing is committed): {@link #issue} writes a certificate for 127.0.0.1/localhost
 * usable as server and client, with its PKCS#8 key, as {@link Config.TlsFiles}.
 */
final class TestPki {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  private final String name;
  private final KeyPair caKeys;
  private final X509Certificate caCert;
  final Path caFile;

  private TestPki(String name, Path dir) {
    this.name = name;
    try {
      Files.createDirectories(dir);
      this.caKeys = newKeyPair();
      X500Name subject = new X500Name("CN=" + name);
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              subject,
              BigInteger.valueOf(SERIAL.incrementAndGet()),
              Date.from(Instant.now().minus(Duration.ofHours(1))),
              Date.from(Instant.now().plus(Duration.ofDays(2))),
              subject,
              caKeys.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      this.caCert = sign(b, caKeys.getPrivate());
      this.caFile = dir.resolve(name + "-ca.pem");
      writePem(caFile, "CERTIFICATE", caCert.getEncoded());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A new CA named {@code name} whose files live in {@code dir}. */
  static TestPki newCa(String name, Path dir) {
    return new TestPki(name, dir);
  }

  /**
   * Issues a certificate for {@code cn}, valid for IP 127.0.0.1 and DNS localhost, for server and
   * client use, and returns it with its key and this CA as TLS files.
   */
  Config.TlsFiles issue(String cn, Path dir) {
    return issue(cn, dir, caFile);
  }

  /** As {@link #issue(String, Path)}, trusting the CAs of {@code trustFile} instead of this one. */
  Config.TlsFiles issue(String cn, Path dir, Path trustFile) {
    return issue(
        cn,
        dir,
        trustFile,
        new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
        new GeneralName(GeneralName.dNSName, "localhost"));
  }

  /**
   * Issues member {@code id}'s certificate: as {@link #issue(String, Path)}, also naming the member
   * ({@code URI:libkv://member/<id>}); its files are under {@code dir/<id>}.
   */
  Config.TlsFiles issueMember(String id, Path dir) {
    return issueMember(id, dir, caFile);
  }

  /** As {@link #issueMember(String, Path)}, trusting the CAs of {@code trustFile}. */
  Config.TlsFiles issueMember(String id, Path dir, Path trustFile) {
    return issue(
        "member-" + id,
        dir.resolve(id),
        trustFile,
        new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
        new GeneralName(GeneralName.dNSName, "localhost"),
        new GeneralName(GeneralName.uniformResourceIdentifier, MemberCertificates.URI_PREFIX + id));
  }

  /** Member {@code id}'s certificate naming only the host {@code dnsName} (no IP address). */
  Config.TlsFiles issueMemberForHost(String id, Path dir, String dnsName) {
    return issue(
        "member-" + id,
        dir.resolve(id),
        caFile,
        new GeneralName(GeneralName.dNSName, dnsName),
        new GeneralName(GeneralName.uniformResourceIdentifier, MemberCertificates.URI_PREFIX + id));
  }

  /** As {@link #issue(String, Path)}, naming only the host {@code dnsName} (no IP address). */
  Config.TlsFiles issueForHost(String cn, Path dir, String dnsName) {
    return issue(cn, dir, caFile, new GeneralName(GeneralName.dNSName, dnsName));
  }

  private Config.TlsFiles issue(String cn, Path dir, Path trustFile, GeneralName... names) {
    try {
      Files.createDirectories(dir);
      KeyPair keys = newKeyPair();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              new X500Name("CN=" + name),
              BigInteger.valueOf(SERIAL.incrementAndGet()),
              Date.from(Instant.now().minus(Duration.ofHours(1))),
              Date.from(Instant.now().plus(Duration.ofDays(1))),
              new X500Name("CN=" + cn),
              keys.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      b.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      X509Certificate cert = sign(b, caKeys.getPrivate());
      Path certFile = dir.resolve(cn + ".pem");
      Path keyFile = dir.resolve(cn + "-key.pem");
      writePem(certFile, "CERTIFICATE", cert.getEncoded());
      writePem(keyFile, "PRIVATE KEY", keys.getPrivate().getEncoded());
      return new Config.TlsFiles(certFile, keyFile, trustFile);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Writes {@code file}: this CA's certificate revocation list naming the certificates of {@code
   * revoked} (an empty list if none), then returns it.
   */
  Path revocationList(Path file, Config.TlsFiles... revoked) {
    try {
      org.bouncycastle.cert.X509v2CRLBuilder b =
          new org.bouncycastle.cert.X509v2CRLBuilder(
              new X500Name("CN=" + name), Date.from(Instant.now().minus(Duration.ofMinutes(5))));
      b.setNextUpdate(Date.from(Instant.now().plus(Duration.ofDays(1))));
      for (Config.TlsFiles f : revoked) {
        X509Certificate c =
            (X509Certificate)
                java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(Files.newInputStream(f.certFile()));
        b.addCRLEntry(
            c.getSerialNumber(),
            Date.from(Instant.now().minus(Duration.ofMinutes(1))),
            org.bouncycastle.asn1.x509.CRLReason.keyCompromise);
      }
      java.security.cert.X509CRL crl =
          new org.bouncycastle.cert.jcajce.JcaX509CRLConverter()
              .getCRL(
                  b.build(
                      new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate())));
      writePem(file, "X509 CRL", crl.getEncoded());
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes a file holding the CA certificates of every given CA (a trust bundle). */
  static Path bundle(Path file, TestPki... cas) {
    StringBuilder sb = new StringBuilder();
    try {
      for (TestPki ca : cas) {
        sb.append(Files.readString(ca.caFile));
      }
      Files.writeString(file, sb.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  private static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static void writePem(Path file, String type, byte[] der) throws IOException {
    String body =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    Files.writeString(
        file, "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n");
  }
}
