package io.libkv.spi;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * For backends whose client retries a refused TLS handshake until its deadline and then reports
 * only that nothing answered: one handshake of their own, on the failure path, tells the caller
 * why. Each call makes one short connection (at most about {@link #TIMEOUT_MS} ms per step) and
 * sends no application data. Thread-safe.
 */
public final class TlsHandshakes {
  /** Connect, handshake and read timeout of one probe, in milliseconds. */
  public static final int TIMEOUT_MS = 1000;

  private TlsHandshakes() {}

  /**
   * Handshakes with {@code server} using the client's own {@code context}, checking that the
   * server's certificate names its host, and waits for the server's verdict on the client's
   * certificate (TLS 1.3 servers judge it after the client's side of the handshake is done: a
   * refusal arrives as an alert on the first read; an accepting server waits, and the read times
   * out).
   *
   * @param alpn application protocols to offer ({@code "h2"} for gRPC), or none
   * @return what refused the handshake, naming the server, or {@code null} if nothing did (or the
   *     server could not be reached at all, which is not a TLS refusal)
   */
  public static String refusal(SSLContext context, InetSocketAddress server, String... alpn) {
    try (SSLSocket s = handshake(context, server, true, alpn)) {
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

  /**
   * Whether {@code server} speaks TLS on that port (a client configured without TLS then gets
   * nowhere): a handshake that trusts any certificate succeeds, or is answered by a TLS alert (a
   * server that wants a client certificate); a plain server's bytes are no TLS record at all.
   */
  public static boolean speaksTls(InetSocketAddress server, String... alpn) {
    try {
      SSLContext any = SSLContext.getInstance("TLS");
      any.init(null, new TrustManager[] {new TrustAll()}, null);
      handshake(any, server, false, alpn).close();
      return true;
    } catch (SSLException e) {
      return String.valueOf(e.getMessage()).contains("Received fatal alert");
    } catch (IOException | GeneralSecurityException e) {
      return false;
    }
  }

  private static SSLSocket handshake(
      SSLContext context, InetSocketAddress server, boolean verify, String... alpn)
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
      if (alpn.length > 0) {
        p.setApplicationProtocols(alpn);
      }
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
