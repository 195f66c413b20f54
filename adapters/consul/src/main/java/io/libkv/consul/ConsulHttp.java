package io.libkv.consul;

import io.libkv.store.NotReachableException;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * The HTTP side of the adapter: builds requests to a Consul agent (base URL, token header, {@code
 * dc}), sends them with the JDK's {@link HttpClient}, and maps every transport and HTTP failure to
 * the store's exceptions in one place, {@link #mapFailure}.
 *
 * <p>Java 17's {@link HttpClient} cannot be closed, so one client is shared by every store with the
 * same TLS context and connection timeout (its threads are named {@code HttpClient-*}). What a
 * store owns is its in-flight requests, which {@link #close()} cancels.
 */
final class ConsulHttp implements AutoCloseable {
  /** The header that carries the blocking-query index. */
  static final String INDEX_HEADER = "X-Consul-Index";

  private static final Map<ClientKey, HttpClient> CLIENTS = new ConcurrentHashMap<>();

  private record ClientKey(SSLContext sslContext, Duration connectTimeout) {}

  /** A response: status, {@code X-Consul-Index} (0 when absent) and body. */
  record Response(int status, long index, byte[] body) {
    String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final ConsulSettings settings;
  private final HttpClient client;
  private final AtomicInteger current = new AtomicInteger();
  private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  ConsulHttp(ConsulSettings settings) {
    this.settings = settings;
    this.client =
        CLIENTS.computeIfAbsent(
            new ClientKey(settings.sslContext(), settings.connectionTimeout()),
            k -> {
              HttpClient.Builder b =
                  HttpClient.newBuilder()
                      .version(HttpClient.Version.HTTP_1_1)
                      .connectTimeout(k.connectTimeout())
                      .followRedirects(HttpClient.Redirect.NEVER);
              if (k.sslContext() != null) {
                b.sslContext(k.sslContext());
              }
              return b.build();
            });
  }

  ConsulSettings settings() {
    return settings;
  }

  /**
   * Sends a request and waits for the answer; the wait is cancelled by {@link #close()} and by an
   * interrupt (which aborts the HTTP exchange).
   *
   * @param pathAndQuery the path under {@code /v1/}, already encoded, with its query
   * @param body the body, or {@code null} for none
   * @param timeout how long the whole exchange may take
   * @throws StoreException mapped by {@link #mapFailure}
   */
  Response call(String method, String pathAndQuery, byte[] body, Duration timeout)
      throws InterruptedException {
    int endpoints = settings.endpoints().size();
    StoreException last = null;
    for (int attempt = 0; attempt < endpoints; attempt++) {
      int at = current.get();
      CompletableFuture<Response> f = sendAsync(at, method, pathAndQuery, body, timeout);
      try {
        return f.get();
      } catch (InterruptedException e) {
        f.cancel(true);
        throw e;
      } catch (ExecutionException | CancellationException e) {
        Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
        last = mapFailure(cause, method, pathAndQuery);
        // Only a refused or timed-out connection moves on to the next agent: any other failure
        // came from an agent that answered.
        if (!(last instanceof NotReachableException) || closed) {
          throw last;
        }
        current.compareAndSet(at, (at + 1) % endpoints);
      }
    }
    throw last;
  }

  /** Like {@link #call} but never blocks; the future fails with the mapped exception. */
  CompletableFuture<Response> callAsync(
      String method, String pathAndQuery, byte[] body, Duration timeout) {
    int at = current.get();
    CompletableFuture<Response> f = sendAsync(at, method, pathAndQuery, body, timeout);
    CompletableFuture<Response> out = new CompletableFuture<>();
    f.whenComplete(
        (r, e) -> {
          if (e == null) {
            out.complete(r);
            return;
          }
          StoreException mapped = mapFailure(unwrap(e), method, pathAndQuery);
          if (mapped instanceof NotReachableException) {
            current.compareAndSet(at, (at + 1) % settings.endpoints().size());
          }
          out.completeExceptionally(mapped);
        });
    // Cancelling the caller's future aborts the exchange.
    out.whenComplete(
        (r, e) -> {
          if (out.isCancelled()) {
            f.cancel(true);
          }
        });
    return out;
  }

  private CompletableFuture<Response> sendAsync(
      int endpoint, String method, String pathAndQuery, byte[] body, Duration timeout) {
    if (closed) {
      return CompletableFuture.failedFuture(new StoreException("Consul store is closed"));
    }
    URI uri = URI.create(settings.endpoints().get(endpoint) + "/v1/" + withDc(pathAndQuery));
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .timeout(timeout)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
    settings.token().ifPresent(t -> b.header(settings.tokenHeader(), settings.tokenValue(t)));
    CompletableFuture<HttpResponse<byte[]>> sent;
    try {
      sent = client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    inFlight.add(sent);
    if (closed) {
      // close() ran while this was being sent and may have missed it: abort it here.
      inFlight.remove(sent);
      sent.cancel(true);
    }
    CompletableFuture<Response> result =
        sent.thenApply(
            r ->
                new Response(
                    r.statusCode(),
                    r.headers().firstValueAsLong(INDEX_HEADER).orElse(0L),
                    r.body()));
    // Cancelling the result must abort the exchange itself, not only the dependent stage.
    result.whenComplete(
        (r, e) -> {
          inFlight.remove(sent);
          if (result.isCancelled()) {
            sent.cancel(true);
          }
        });
    return result;
  }

  private String withDc(String pathAndQuery) {
    if (settings.datacenter() == null) {
      return pathAndQuery;
    }
    return pathAndQuery
        + (pathAndQuery.indexOf('?') < 0 ? '?' : '&')
        + "dc="
        + ConsulPaths.encodeQueryValue(settings.datacenter());
  }

  /** Number of exchanges not finished yet; for tests. */
  int inFlightCount() {
    return inFlight.size();
  }

  /** Cancels every exchange in flight and refuses new ones. */
  @Override
  public void close() {
    closed = true;
    for (CompletableFuture<?> f : List.copyOf(inFlight)) {
      f.cancel(true);
    }
    inFlight.clear();
  }

  boolean isClosed() {
    return closed;
  }

  /**
   * Throws the store's exception for an HTTP status other than those {@code accepted}; returns the
   * response otherwise. The single place where Consul's status codes become exceptions.
   */
  Response expect(Response r, String what, int... accepted) {
    for (int a : accepted) {
      if (r.status() == a) {
        return r;
      }
    }
    String detail = r.bodyText().strip();
    switch (r.status()) {
      case 413:
        throw new IllegalArgumentException(
            "Consul refused the value of " + what + " as too large: " + detail);
      case 403:
        throw new StoreException(
            "Consul denied " + what + " (ACL token missing or lacking rights): " + detail);
      case 500:
      case 502:
      case 503:
      case 504:
        if (detail.contains("No cluster leader")) {
          throw new NotReachableException(
              settings.endpoints(), "no Consul cluster leader for " + what + ": " + detail, null);
        }
        throw new StoreException("Consul failed " + what + ": HTTP " + r.status() + " " + detail);
      default:
        throw new StoreException(
            "Consul answered " + what + " with HTTP " + r.status() + ": " + detail);
    }
  }

  /** Maps a transport failure (or an already mapped one) to the store's exception. */
  StoreException mapFailure(Throwable t, String method, String pathAndQuery) {
    Throwable c = unwrap(t);
    if (c instanceof StoreException se) {
      return se;
    }
    String what = method + " /v1/" + pathAndQuery;
    if (c instanceof CancellationException) {
      return new StoreException((closed ? "Consul store closed during " : "cancelled: ") + what, c);
    }
    if (c instanceof IOException) {
      return new NotReachableException(
          settings.endpoints(),
          what + " failed within the connection timeout " + settings.connectionTimeout() + ": " + c,
          c);
    }
    if (c instanceof IllegalArgumentException iae) {
      return new StoreException("invalid Consul request " + what + ": " + iae.getMessage(), iae);
    }
    return new StoreException("Consul request " + what + " failed: " + c, c);
  }

  private static Throwable unwrap(Throwable t) {
    Throwable c = Objects.requireNonNull(t);
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }
}
