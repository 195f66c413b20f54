package io.libkv.etcd;

import io.libkv.store.Config;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Says why no etcd server answered when TLS is the likely reason. gRPC retries a refused TLS
 * handshake until the deadline, so the caller would only learn that nothing answered; on that
 * failure path the store makes one handshake per endpoint itself, with its own certificate and
 * trust, and names a refusal (no or untrusted client certificate, an untrusted server) in the
 * error. Without TLS configured it checks whether the endpoint speaks TLS.
 */
final class EtcdTlsProbe {
  private static final int TIMEOUT_MS = 1000;

  private EtcdTlsProbe() {}

  /** Why TLS keeps the client from the endpoints, or {@code null} if it does not seem to. */
  static String diagnose(List<URI> endpoints, Config config) {
    boolean tls = config.tlsEnabled() || endpoints.get(0).getScheme().equals("https");
    SSLContext context = null;
    if (tls) {
      try {
        context = context(config);
      } catch (GeneralSecurityException | IOException | RuntimeException e) {
        return null; // the configuration was checked when the client was built
      }
    }
    for (URI u : endpoints) {
      InetSocketAddress a = new InetSocketAddress(u.getHost(), u.getPort());
      String why = tls ? refusal(context, a) : speaksTls(a);
      if (why != null) {
        return why;
      }
    }
    return null;
  }

  private static SSLContext context(Config config) throws GeneralSecurityException, IOException {
    if (config.sslContext().isPresent()) {
      return config.sslContext().get();
    }
    SslContextBuilder b = SslContextBuilder.forClient().sslProvider(SslProvider.JDK);
    if (config.tlsFiles().isPresent()) {
      Config.TlsFiles f = config.tlsFiles().get();
      if (f.caFile() != null) {
        b.trustManager(f.caFile().toFile());
      }
      if (f.certFile() != null) {
        b.keyManager(f.certFile().toFile(), f.keyFile().toFile());
      }
    }
    return ((JdkSslContext) b.build()).context();
  }

  private static String refusal(SSLContext context, InetSocketAddress server) {
    try (SSLSocket s = handshake(context, server, true)) {
      // TLS 1.3 servers judge the client certificate after the client's side of the handshake
      // is done: a refusal arrives as an alert on the first read; an accepting server waits for
      // the client to speak, and the read times out.
      s.getInputStream().read();
      return null;
    } catch (SSLException e) {
      return "the TLS handshake with "
          + server.getHostString()
          + ":"
          + server.getPort()
          + " failed ("
          + e.getMessage()
          + "): check that the client certificate is signed by a CA the server trusts, and that"
          + " the CA file holds the server's CA";
    } catch (IOException e) {
      return null; // unreachable, timed out, or closed without an alert: not a TLS refusal
    }
  }

  private static String speaksTls(InetSocketAddress server) {
    String tls =
        "the server at "
            + server.getHostString()
            + ":"
            + server.getPort()
            + " speaks TLS: use https:// endpoints and Config.tls(...)";
    try {
      SSLContext any = SSLContext.getInstance("TLS");
      any.init(null, new TrustManager[] {new TrustAll()}, null);
      handshake(any, server, false).close();
      return tls;
    } catch (SSLException e) {
      // A TLS server that wants a client certificate answers this one with an alert; a plain
      // server's bytes are not a TLS record at all.
      return String.valueOf(e.getMessage()).contains("Received fatal alert") ? tls : null;
    } catch (IOException | GeneralSecurityException e) {
      return null;
    }
  }

  private static SSLSocket handshake(SSLContext context, InetSocketAddress server, boolean verify)
      throws IOException {
    Socket plain = new Socket();
    try {
      plain.connect(server, TIMEOUT_MS);
      plain.setSoTimeout(TIMEOUT_MS);
      SSLSocket s =
          (SSLSocket)
              context
                  .getSocketFactory()
                  .createSocket(plain, server.getHostString(), server.getPort(), true);
      SSLParameters p = s.getSSLParameters();
      p.setApplicationProtocols(new String[] {"h2"});
      if (verify) {
        p.setEndpointIdentificationAlgorithm("HTTPS");
      }
      s.setSSLParameters(p);
      s.startHandshake();
      return s;
    } catch (IOException | RuntimeException e) {
      plain.close();
      throw e;
    }
  }

  /** Used only to learn whether a port speaks TLS at all; nothing is sent over it. */
  private static final class TrustAll implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
