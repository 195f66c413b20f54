package io.libkv.raft;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.LongSupplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;

/**
 * Finds out why the members do not answer when TLS may be the reason: a failed call that only timed
 * out (Ratis retries a refused handshake until the deadline, and the last error is often lost) gets
 * one TLS handshake per member, with this store's own certificate and trust, outside Ratis. If a
 * member refuses it (untrusted or missing certificate, a certificate that does not name its host),
 * or if the store has no TLS but a member speaks it, the caller's error says so. Used only on
 * failure paths; results are cached for a second so a burst of failing calls probes once. A store
 * without TLS whose probe found nothing probes again only after a minute: its probe is a TLS
 * handshake that a plaintext member cannot parse and logs as a garbled frame (Ratis' Netty
 * transport: "invalid tag", "RAFTNETTYSERVERREQUEST_NOT_SET"), and under faults every failed call
 * would otherwise add one per member per second. Thread-safe.
 */
final class TlsProbe {
  private static final int TIMEOUT_MS = 1000;
  private static final long CACHE_NS = 1_000_000_000L;
  // A plaintext store's clean result: members rarely start speaking TLS, and each probe of a
  // plaintext member leaves a warning in its log.
  static final long PLAIN_CLEAN_CACHE_NS = 60_000_000_000L;
  private static final Executor THREAD_PER_PROBE =
      r -> {
        Thread t = new Thread(r, "libkv-tls-probe");
        t.setDaemon(true);
        t.start();
      };

  private final List<InetSocketAddress> members;
  private final RaftTls tls;
  private final LongSupplier nanoTime;
  private final Function<InetSocketAddress, String> prober;
  private volatile long probedAtNs;
  private volatile String lastResult;
  private volatile boolean probed;

  TlsProbe(List<String> endpoints, RaftTls tls) {
    this(endpoints, tls, System::nanoTime, null);
  }

  /**
   * @param nanoTime the clock the cache is timed by
   * @param prober what probes one member, {@code null} for the TLS handshake of this class
   */
  TlsProbe(
      List<String> endpoints,
      RaftTls tls,
      LongSupplier nanoTime,
      Function<InetSocketAddress, String> prober) {
    this.members =
        Peers.parse(endpoints).stream()
            .map(Peers::address)
            .map(a -> new InetSocketAddress(a.getHostString(), a.getPort()))
            .toList();
    this.tls = tls;
    this.nanoTime = nanoTime;
    this.prober = prober != null ? prober : this::probe;
  }

  /**
   * Returns why TLS keeps this store from the members (naming the member), or {@code null} if no
   * reachable member refuses a handshake. Blocks up to about two seconds per member.
   */
  String diagnose() {
    long now = nanoTime.getAsLong();
    long keep = tls == null && lastResult == null ? PLAIN_CLEAN_CACHE_NS : CACHE_NS;
    if (probed && now - probedAtNs < keep) {
      return lastResult;
    }
    String result = null;
    for (InetSocketAddress m : members) {
      result = prober.apply(m);
      if (result != null) {
        break;
      }
    }
    lastResult = result;
    probedAtNs = nanoTime.getAsLong();
    probed = true;
    return result;
  }

  /** {@link #diagnose()} on a short-lived thread of its own (never on Ratis' or a pool's). */
  CompletableFuture<String> diagnoseAsync() {
    return CompletableFuture.supplyAsync(this::diagnose, THREAD_PER_PROBE);
  }

  private String probe(InetSocketAddress member) {
    String name = member.getHostString() + ":" + member.getPort();
    SSLContext ctx;
    try {
      ctx = SSLContext.getInstance("TLS");
      if (tls != null) {
        ctx.init(new KeyManager[] {tls.keyManager}, new TrustManager[] {tls.trustManager}, null);
      } else {
        ctx.init(null, null, null);
      }
    } catch (GeneralSecurityException e) {
      return null;
    }
    try (Socket plain = new Socket()) {
      plain.connect(member, TIMEOUT_MS);
      plain.setSoTimeout(TIMEOUT_MS);
      try (SSLSocket s =
          (SSLSocket)
              ctx.getSocketFactory()
                  .createSocket(plain, member.getHostString(), member.getPort(), false)) {
        SSLParameters p = s.getSSLParameters();
        // As gRPC's client does: the member's certificate must name the endpoint's host.
        p.setEndpointIdentificationAlgorithm("HTTPS");
        p.setApplicationProtocols(new String[] {"h2"});
        s.setSSLParameters(p);
        s.startHandshake();
        if (tls == null) {
          return "member "
              + name
              + " speaks TLS, but this store has no TLS configured (Config.tls)";
        }
        // With TLS 1.3 a server refuses the client's certificate only after the client's side of
        // the handshake is done: its alert arrives on the first read.
        InputStream in = s.getInputStream();
        in.read();
        return null;
      }
    } catch (SocketTimeoutException e) {
      return null; // the handshake went through and the member waits for a request: no TLS issue
    } catch (SSLException e) {
      if (tls == null) {
        return causedByCertificate(e)
            ? "member "
                + name
                + " speaks TLS, but this store has no TLS configured (Config.tls): "
                + e.getMessage()
            : null;
      }
      return "TLS handshake with member " + name + " failed: " + e.getMessage();
    } catch (IOException | RuntimeException e) {
      return null; // down, or not TLS: not for this probe to say
    }
  }

  private static boolean causedByCertificate(Throwable t) {
    for (int depth = 0; t != null && depth < 10; t = t.getCause(), depth++) {
      if (t instanceof CertificateException
          || String.valueOf(t.getMessage()).contains("certificate")) {
        return true;
      }
    }
    return false;
  }
}
