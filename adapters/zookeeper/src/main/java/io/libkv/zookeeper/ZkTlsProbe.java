package io.libkv.zookeeper;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.common.X509Exception;

/**
 * Says why no server answered when TLS is the likely reason. ZooKeeper's client retries a refused
 * TLS handshake until the connection timeout and reports only that it never connected; on that
 * failure path the store makes one handshake per server itself, with its own certificate and trust:
 * a refusal (no or untrusted client certificate, an untrusted server certificate) is then named in
 * the error. Without TLS configured it checks whether the server speaks TLS on that port.
 */
final class ZkTlsProbe {
  private static final int TIMEOUT_MS = 1000;

  private ZkTlsProbe() {}

  /** Why TLS keeps the client from {@code servers}, or {@code null} if it does not seem to. */
  static String diagnose(List<InetSocketAddress> servers, ZKClientConfig clientConfig) {
    boolean tls = "true".equals(clientConfig.getProperty(ZKClientConfig.SECURE_CLIENT));
    for (InetSocketAddress server : servers) {
      String why = tls ? refusal(server, clientConfig) : speaksTls(server);
      if (why != null) {
        return why;
      }
    }
    return null;
  }

  private static String refusal(InetSocketAddress server, ZKClientConfig clientConfig) {
    SSLContext context;
    try (ClientX509Util x = new ClientX509Util()) {
      context = x.createSSLContext(clientConfig);
    } catch (X509Exception.SSLContextException e) {
      return "the TLS files cannot be used: " + e.getMessage();
    }
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
            + " speaks TLS: give the store Config.tls(...) with a client certificate it trusts";
    try {
      SSLContext any = SSLContext.getInstance("TLS");
      any.init(null, new TrustManager[] {new TrustAll()}, null);
      handshake(any, server, false).close();
      return tls;
    } catch (SSLException e) {
      // A TLS server that wants a client certificate answers this one with an alert; a plain
      // server's bytes are not a TLS record at all.
      String m = String.valueOf(e.getMessage());
      return m.contains("Received fatal alert") ? tls : null;
    } catch (IOException | java.security.GeneralSecurityException e) {
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
      if (verify) {
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(p);
      }
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
