package io.libkv.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.grpc.netty.GrpcSslContexts;
import io.libkv.spi.PemTls;
import io.libkv.spi.ReloadingTls;
import io.libkv.store.Config;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * Turns libkv endpoints and a {@link Config} into a jetcd {@link Client}: endpoint syntax, TLS (an
 * {@link SSLContext} or PEM files, with ALPN for HTTP/2), credentials, timeouts and the bucket (a
 * jetcd namespace).
 */
final class EtcdConnector {
  /** gRPC's default inbound limit (4 MiB) is too small for listing many large values. */
  private static final int MAX_INBOUND_MESSAGE_BYTES = 512 << 20;

  private EtcdConnector() {}

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(EtcdConnector.class);

  private static final ReloadingTls.Listener LOGGED =
      ReloadingTls.Listener.logged("etcd TLS", LOG::info, LOG::warn);

  /** The endpoints as {@code http(s)://host:port} URIs; refuses mixed or malformed ones. */
  static List<URI> parseEndpoints(List<String> endpoints, boolean tlsConfigured) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException(
          "etcd needs at least one endpoint (host:port or http(s)://host:port)");
    }
    List<URI> uris = new ArrayList<>();
    Boolean https = null;
    for (String e : endpoints) {
      if (e == null || e.isBlank()) {
        throw new IllegalArgumentException("etcd endpoint must not be blank: " + endpoints);
      }
      String s = e.trim();
      boolean secure;
      if (s.startsWith("https://")) {
        secure = true;
      } else if (s.startsWith("http://")) {
        secure = false;
      } else if (s.contains("://")) {
        throw new IllegalArgumentException(
            "etcd endpoint must be host:port, http://host:port or https://host:port, was " + s);
      } else {
        secure = tlsConfigured;
        s = (secure ? "https://" : "http://") + s;
      }
      if (https != null && https != secure) {
        throw new IllegalArgumentException(
            "etcd endpoints mix http and https, which one client cannot do: " + endpoints);
      }
      https = secure;
      URI uri;
      try {
        uri = URI.create(s);
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("etcd endpoint is not host:port: " + e, ex);
      }
      if (uri.getHost() == null || uri.getPort() < 0) {
        throw new IllegalArgumentException(
            "etcd endpoint must name a host and a port (host:port), was " + e);
      }
      String path = uri.getPath();
      if (path != null && !path.isEmpty() && !path.equals("/")) {
        throw new IllegalArgumentException("etcd endpoint must not have a path, was " + e);
      }
      uris.add(uri);
    }
    if (Boolean.FALSE.equals(https) && tlsConfigured) {
      throw new IllegalArgumentException(
          "TLS is configured but the etcd endpoints say http://: " + endpoints);
    }
    return uris;
  }

  /** Builds the client; it connects lazily, on the first call. */
  static Client connect(List<URI> uris, Config config) {
    boolean tls = config.tlsEnabled() || uris.get(0).getScheme().equals("https");
    if (config.username().isPresent() != config.password().isPresent()) {
      throw new IllegalArgumentException(
          "etcd authentication needs both a username and a password (only one was given)");
    }
    ClientBuilder b =
        Client.builder()
            .endpoints(uris)
            .connectTimeout(config.connectionTimeout())
            .retryMaxDuration(config.connectionTimeout())
            .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
            .interceptor(new CallDeadlines(config.connectionTimeout()));
    if (config.username().isPresent()) {
      b.user(ByteSequence.from(config.username().get(), StandardCharsets.UTF_8))
          .password(ByteSequence.from(config.password().get(), StandardCharsets.UTF_8));
    }
    if (config.bucket().isPresent()) {
      b.namespace(ByteSequence.from(config.bucket().get() + "/", StandardCharsets.UTF_8));
    }
    if (tls) {
      b.sslContext(sslContext(config));
    }
    return b.build();
  }

  private static SslContext sslContext(Config config) {
    if (config.sslContext().isPresent()) {
      // The application's own context, told to offer HTTP/2 through ALPN as gRPC requires.
      return new JdkSslContext(
          config.sslContext().get(),
          true,
          null,
          IdentityCipherSuiteFilter.INSTANCE,
          new ApplicationProtocolConfig(
              ApplicationProtocolConfig.Protocol.ALPN,
              ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
              ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
              ApplicationProtocolNames.HTTP_2),
          ClientAuth.NONE,
          null,
          false);
    }
    try {
      // The JDK's TLS, whose handshakes ask the managers each time: the files' managers re-read
      // them when they change (a certificate rotated in place serves new connections).
      SslContextBuilder b =
          GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK);
      if (config.tlsFiles().isPresent()) {
        PemTls.Client files = PemTls.client(config.tlsFiles().get(), "etcd TLS", LOGGED);
        b.trustManager(files.trustManager());
        if (files.keyManager() != null) {
          b.keyManager(files.keyManager());
        }
      }
      return b.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "etcd TLS configuration is unusable (" + config.tlsFiles().orElse(null) + "): " + e, e);
    }
  }
}
