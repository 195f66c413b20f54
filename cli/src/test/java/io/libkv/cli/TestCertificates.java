package io.libkv.cli;

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
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority made for one test run (EC P-256, nothing committed): {@link #issue}
 * writes a certificate for 127.0.0.1 and localhost, good for servers and clients, its PKCS#8 key,
 * and this CA's certificate, as PEM files.
 */
final class TestCertificates {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  private final X500Name name;
  private final KeyPair keys;
  private final Path caFile;

  private TestCertificates(String cn, Path dir) throws GeneralSecurityException, IOException {
    this.name = new X500Name("CN=" + cn);
    this.keys = newKeyPair();
    X509v3CertificateBuilder b = builder(name, keys);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    Files.createDirectories(dir);
    this.caFile = dir.resolve(cn + "-ca.pem");
    writePem(caFile, "CERTIFICATE", sign(b).getEncoded());
  }

  /** Makes a new CA whose certificate is written under {@code dir}. */
  static TestCertificates newCa(String cn, Path dir) {
    try {
      return new TestCertificates(cn, dir);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot make a test CA", e);
    }
  }

  /**
   * Issues a certificate named {@code cn} for 127.0.0.1 and localhost, written under {@code dir}.
   */
  Config.TlsFiles issue(String cn, Path dir) {
    return issue(cn, dir, null);
  }

  /**
   * Issues embedded member {@code id}'s certificate: as {@link #issue(String, Path)}, also naming
   * the member ({@code URI:libkv://member/<id>}), written under {@code dir}.
   */
  Config.TlsFiles issueMember(String id, Path dir) {
    return issue("member-" + id, dir, "libkv://member/" + id);
  }

  private Config.TlsFiles issue(String cn, Path dir, String memberUri) {
    try {
      KeyPair kp = newKeyPair();
      X509v3CertificateBuilder b = builder(new X500Name("CN=" + cn), kp);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
      b.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      b.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(
              memberUri == null
                  ? new GeneralName[] {
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                    new GeneralName(GeneralName.dNSName, "localhost")
                  }
                  : new GeneralName[] {
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.uniformResourceIdentifier, memberUri)
                  }));
      Path cert = dir.resolve(cn + ".pem");
      Path key = dir.resolve(cn + "-key.pem");
      writePem(cert, "CERTIFICATE", sign(b).getEncoded());
      writePem(key, "PRIVATE KEY", kp.getPrivate().getEncoded());
      return new Config.TlsFiles(cert, key, caFile);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot issue a test certificate for " + cn, e);
    }
  }

  private X509v3CertificateBuilder builder(X500Name subject, KeyPair subjectKeys) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(
        name,
        BigInteger.valueOf(SERIAL.incrementAndGet()),
        Date.from(now.minus(Duration.ofHours(1))),
        Date.from(now.plus(Duration.ofDays(1))),
        subject,
        subjectKeys.getPublic());
  }

  private X509CertificateHolder sign(X509v3CertificateBuilder b) throws GeneralSecurityException {
    try {
      return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign", e);
    }
  }

  private static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static void writePem(Path file, String type, byte[] der) {
    String body =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    String pem = "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    try {
      Files.writeString(file, pem, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
