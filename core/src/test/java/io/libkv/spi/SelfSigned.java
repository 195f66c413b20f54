package io.libkv.spi;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed EC certificate made by the JDK's keytool for tests (valid two days, subject
 * alternative name IP 127.0.0.1), as a PKCS#12 key store and as PEM files: {@code <cn>.pem} and the
 * unencrypted PKCS#8 {@code <cn>-key.pem}. Shared through core's test jar.
 *
 * @param keyStore the key store, alias {@code k}, password {@link #PASSWORD}
 * @param certFile the certificate as PEM
 * @param keyFile the private key as PEM (PKCS#8)
 */
public record SelfSigned(KeyStore keyStore, Path certFile, Path keyFile) {
  /** The key store's and the key's password. */
  public static final char[] PASSWORD = "changeit".toCharArray();

  /**
   * Makes the certificate for {@code CN=<cn>} under {@code dir}.
   *
   * @throws IllegalStateException if keytool fails
   */
  public static SelfSigned make(Path dir, String cn) {
    try {
      Path p12 = dir.resolve(cn + ".p12");
      Process p =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                  "-genkeypair",
                  "-alias",
                  "k",
                  "-keyalg",
                  "EC",
                  "-groupname",
                  "secp256r1",
                  "-dname",
                  "CN=" + cn,
                  "-ext",
                  "SAN=ip:127.0.0.1",
                  "-validity",
                  "2",
                  "-keystore",
                  p12.toString(),
                  "-storetype",
                  "PKCS12",
                  "-storepass",
                  new String(PASSWORD),
                  "-keypass",
                  new String(PASSWORD))
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("keytool failed for " + cn + ": " + out);
      }
      KeyStore ks = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(p12)) {
        ks.load(in, PASSWORD);
      }
      Path cert = dir.resolve(cn + ".pem");
      Path key = dir.resolve(cn + "-key.pem");
      Files.writeString(cert, pem("CERTIFICATE", ks.getCertificate("k").getEncoded()));
      Files.writeString(key, pem("PRIVATE KEY", ks.getKey("k", PASSWORD).getEncoded()));
      return new SelfSigned(ks, cert, key);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while keytool ran", e);
    }
  }

  /** {@code der} as a PEM block of {@code type} (e.g. {@code CERTIFICATE}). */
  public static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}
