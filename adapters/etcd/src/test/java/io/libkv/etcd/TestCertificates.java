package io.libkv.etcd;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A throw-away CA, a server certificate for 127.0.0.1 and a client certificate, made at test time
 * with the JDK's keytool (nothing is committed). Keys are written as PKCS#8 PEM, as etcd and
 * libkv's {@code Config.TlsFiles} read them.
 */
final class TestCertificates {
  private static final String PASS = "changeit";

  final Path caCert;
  final Path serverCert;
  final Path serverKey;
  final Path clientCert;
  final Path clientKey;
  private final Path dir;

  private TestCertificates(Path dir) {
    this.dir = dir;
    this.caCert = dir.resolve("ca.pem");
    this.serverCert = dir.resolve("server.pem");
    this.serverKey = dir.resolve("server-key.pem");
    this.clientCert = dir.resolve("client.pem");
    this.clientKey = dir.resolve("client-key.pem");
  }

  static TestCertificates create(Path dir) throws IOException, InterruptedException {
    TestCertificates c = new TestCertificates(dir);
    c.genKeyPair("ca", "CN=libkv-test-ca", "bc:c");
    c.keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        "ca",
        "-keystore",
        c.store("ca"),
        "-file",
        c.caCert.toString());
    c.issue(
        "server",
        "CN=127.0.0.1",
        "SAN=ip:127.0.0.1,dns:localhost",
        "EKU=serverAuth",
        c.serverCert,
        c.serverKey);
    c.issue("client", "CN=libkv-client", null, "EKU=clientAuth", c.clientCert, c.clientKey);
    return c;
  }

  /** An SSLContext with the client certificate and trusting only the test CA. */
  SSLContext clientContext() throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(Path.of(store("client")))) {
      ks.load(in, PASS.toCharArray());
    }
    Key key = ks.getKey("client", PASS.toCharArray());
    List<Certificate> chain = new ArrayList<>(certificates(clientCert));
    chain.addAll(certificates(caCert));
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry("client", key, PASS.toCharArray(), chain.toArray(new Certificate[0]));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, PASS.toCharArray());
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", certificates(caCert).get(0));
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  private void issue(String alias, String dname, String san, String eku, Path certOut, Path keyOut)
      throws IOException, InterruptedException {
    genKeyPair(alias, dname, null);
    Path csr = dir.resolve(alias + ".csr");
    keytool("-certreq", "-alias", alias, "-keystore", store(alias), "-file", csr.toString());
    List<String> args =
        new ArrayList<>(
            List.of(
                "-gencert",
                "-rfc",
                "-alias",
                "ca",
                "-keystore",
                store("ca"),
                "-infile",
                csr.toString(),
                "-outfile",
                certOut.toString(),
                "-validity",
                "2",
                "-ext",
                eku));
    if (san != null) {
      args.add("-ext");
      args.add(san);
    }
    keytool(args.toArray(new String[0]));
    writeKey(alias, keyOut);
  }

  private void genKeyPair(String alias, String dname, String ext)
      throws IOException, InterruptedException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "-genkeypair",
                "-alias",
                alias,
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                dname,
                "-validity",
                "2",
                "-keystore",
                store(alias)));
    if (ext != null) {
      args.add("-ext");
      args.add(ext);
    }
    keytool(args.toArray(new String[0]));
  }

  private void writeKey(String alias, Path out) throws IOException {
    try (InputStream in = Files.newInputStream(Path.of(store(alias)))) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, PASS.toCharArray());
      PrivateKey key = (PrivateKey) ks.getKey(alias, PASS.toCharArray());
      String pem =
          "-----BEGIN PRIVATE KEY-----\n"
              + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                  .encodeToString(key.getEncoded())
              + "\n-----END PRIVATE KEY-----\n";
      Files.writeString(out, pem, StandardCharsets.US_ASCII);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read the key of " + alias, e);
    }
  }

  private static List<Certificate> certificates(Path pem)
      throws IOException, GeneralSecurityException {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    return new ArrayList<>(
        cf.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(pem))));
  }

  private String store(String alias) {
    return dir.resolve(alias + ".p12").toString();
  }

  private void keytool(String... args) throws IOException, InterruptedException {
    List<String> full = new ArrayList<>(List.of(args));
    full.addAll(List.of("-storetype", "PKCS12", "-storepass", PASS, "-keypass", PASS, "-noprompt"));
    if (inProcess(full)) {
      return;
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    // A short-lived JVM: skip the optimising compiler and the parallel collector.
    cmd.addAll(List.of("-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "-J-Xshare:auto"));
    cmd.addAll(full);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("keytool " + String.join(" ", args) + " failed:\n" + out);
    }
  }

  /**
   * Runs keytool inside this JVM when the build exported its package to us (the module's failsafe
   * argLine does): a JVM start per command costs seconds on a busy machine. {@code -debug} makes
   * keytool throw on errors instead of calling {@code System.exit}.
   */
  private static boolean inProcess(List<String> args) throws IOException {
    java.lang.reflect.Method main;
    try {
      main = Class.forName("sun.security.tools.keytool.Main").getMethod("main", String[].class);
    } catch (ReflectiveOperationException e) {
      return false;
    }
    List<String> withDebug = new ArrayList<>(args);
    withDebug.add("-debug");
    try {
      main.invoke(null, (Object) withDebug.toArray(new String[0]));
      return true;
    } catch (IllegalAccessException e) {
      return false;
    } catch (java.lang.reflect.InvocationTargetException e) {
      throw new IOException("keytool " + String.join(" ", args) + " failed", e.getCause());
    }
  }
}
