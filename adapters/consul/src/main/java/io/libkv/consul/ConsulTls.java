package io.libkv.consul;

import io.libkv.spi.PemTls;
import io.libkv.spi.ReloadingTls;
import io.libkv.store.Config;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS context of stores opened with PEM files ({@link Config.TlsFiles}): one context per set of
 * files, so that those stores share one HTTP client (Java 17's cannot be closed, see {@link
 * ConsulHttp}), over key and trust managers that read the files again at the next handshake after
 * one of them changed ({@link PemTls#client}): a certificate, key or CA file rotated in place takes
 * effect on new connections without a restart.
 */
final class ConsulTls {
  private static final Logger LOG = LoggerFactory.getLogger(ConsulTls.class);
  private static final Map<Config.TlsFiles, SSLContext> CONTEXTS = new ConcurrentHashMap<>();

  private static final ReloadingTls.Listener LOGGED =
      ReloadingTls.Listener.logged("Consul TLS", LOG::info, LOG::warn);

  private ConsulTls() {}

  /**
   * The context for {@code files}: it trusts the CAs of {@code caFile} (the JDK's without one) and
   * presents {@code certFile} with {@code keyFile} (unencrypted PKCS#8) when given.
   *
   * @throws IllegalArgumentException naming the file that cannot be read or used
   */
  static SSLContext context(Config.TlsFiles files) {
    SSLContext known = CONTEXTS.get(files);
    if (known != null) {
      return known;
    }
    // Made outside the map's lock: reading and checking the files may throw.
    SSLContext made = PemTls.client(files, "Consul TLS", LOGGED).sslContext();
    SSLContext raced = CONTEXTS.putIfAbsent(files, made);
    return raced != null ? raced : made;
  }
}
