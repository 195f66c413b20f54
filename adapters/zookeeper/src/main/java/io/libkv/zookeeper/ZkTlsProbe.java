package io.libkv.zookeeper;

import io.libkv.spi.TlsHandshakes;
import java.net.InetSocketAddress;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.common.X509Exception;

/**
 * Says why no server answered when TLS is the likely reason. ZooKeeper's client retries a refused
 * TLS handshake until the connection timeout and reports only that it never connected; on that
 * failure path the store makes one handshake per server itself ({@link TlsHandshakes}), with its
 * own certificate and trust. Without TLS configured it checks whether the server speaks TLS.
 */
final class ZkTlsProbe {
  private ZkTlsProbe() {}

  /** Why TLS keeps the client from {@code servers}, or {@code null} if it does not seem to. */
  static String diagnose(List<InetSocketAddress> servers, ZKClientConfig clientConfig) {
    boolean tls = "true".equals(clientConfig.getProperty(ZKClientConfig.SECURE_CLIENT));
    SSLContext context = null;
    if (tls) {
      try (ClientX509Util x = new ClientX509Util()) {
        context = x.createSSLContext(clientConfig);
      } catch (X509Exception.SSLContextException e) {
        return "the TLS files cannot be used: " + e.getMessage();
      }
    }
    for (InetSocketAddress server : servers) {
      if (tls) {
        String why = TlsHandshakes.refusal(context, server);
        if (why != null) {
          return why;
        }
      } else if (TlsHandshakes.speaksTls(server)) {
        return "the server at "
            + server.getHostString()
            + ":"
            + server.getPort()
            + " speaks TLS: give the store Config.tls(...) with a client certificate it trusts";
      }
    }
    return null;
  }
}
