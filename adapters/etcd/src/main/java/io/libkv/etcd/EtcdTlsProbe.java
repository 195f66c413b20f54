package io.libkv.etcd;

import io.libkv.spi.TlsHandshakes;
import io.libkv.store.Config;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * Says why no etcd server answered when TLS is the likely reason. gRPC retries a refused TLS
 * handshake until the deadline, so the caller would only learn that nothing answered; on that
 * failure path the store makes one handshake per endpoint itself ({@link TlsHandshakes}), with its
 * own certificate and trust, and names a refusal (no or untrusted client certificate, an untrusted
 * server) in the error. Without TLS configured it checks whether the endpoint speaks TLS.
 */
final class EtcdTlsProbe {
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
      if (tls) {
        String why = TlsHandshakes.refusal(context, a, "h2");
        if (why != null) {
          return why;
        }
      } else if (TlsHandshakes.speaksTls(a, "h2")) {
        return "the server at "
            + a.getHostString()
            + ":"
            + a.getPort()
            + " speaks TLS: use https:// endpoints and Config.tls(...)";
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
}
