package io.libkv.consul;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * A local HTTP server (the JDK's {@link HttpServer} on 127.0.0.1, a free port) that replays
 * request/response pairs written by the tests, shaped as Consul's HTTP API documentation gives them
 * (JSON fields, {@code X-Consul-Index}, 404 for a missing key, {@code true}/{@code false}, 409 for
 * a rolled-back transaction). It is <b>not</b> a Consul: it has no KV semantics, it answers only
 * what a test scripted for an exact method, path and query, and records every request so that tests
 * can check what the adapter sent. An unscripted request gets HTTP 599 and is recorded as
 * unexpected.
 */
final class RecordedConsul implements AutoCloseable {

  /** A request as received: method, raw path, raw query (or {@code ""}), headers and body. */
  record Request(
      String method, String path, String query, Map<String, String> headers, byte[] body) {
    String pathAndQuery() {
      return query.isEmpty() ? path : path + "?" + query;
    }

    String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }

    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    @Override
    public String toString() {
      return method + " " + pathAndQuery();
    }
  }

  /** A scripted answer; {@code gate}, when given, holds it back until completed. */
  record Reply(int status, Map<String, String> headers, String body, CompletableFuture<?> gate) {}

  /** The answers scripted for one method and path-with-query, given in order. */
  final class Route {
    private final Deque<Reply> replies = new ArrayDeque<>();
    private Reply always;

    /** Answers the next matching request once. */
    Route reply(int status, String body, String... headerPairs) {
      synchronized (RecordedConsul.this) {
        replies.add(new Reply(status, headers(headerPairs), body, null));
      }
      return this;
    }

    /** Answers the next matching request once, when {@code gate} completes. */
    Route replyWhen(CompletableFuture<?> gate, int status, String body, String... headerPairs) {
      synchronized (RecordedConsul.this) {
        replies.add(new Reply(status, headers(headerPairs), body, gate));
      }
      return this;
    }

    /** Answers every further matching request (after the one-shot replies). */
    Route always(int status, String body, String... headerPairs) {
      synchronized (RecordedConsul.this) {
        always = new Reply(status, headers(headerPairs), body, null);
      }
      return this;
    }

    /** Holds every further matching request until {@code gate} completes. */
    Route alwaysWhen(CompletableFuture<?> gate, int status, String body, String... headerPairs) {
      synchronized (RecordedConsul.this) {
        always = new Reply(status, headers(headerPairs), body, gate);
      }
      return this;
    }
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final Map<String, Route> routes = new LinkedHashMap<>();
  private final LinkedBlockingQueue<Request> received = new LinkedBlockingQueue<>();
  private final List<Request> all = new CopyOnWriteArrayList<>();
  private final List<Request> unexpected = new CopyOnWriteArrayList<>();
  private boolean stopped;

  RecordedConsul() throws IOException {
    this(null, false);
  }

  /**
   * A server that speaks HTTPS with {@code tls} (and asks for a client certificate when {@code
   * needClientAuth}), or plain HTTP when {@code tls} is {@code null}.
   */
  RecordedConsul(SSLContext tls, boolean needClientAuth) throws IOException {
    InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    if (tls == null) {
      server = HttpServer.create(at, 0);
    } else {
      HttpsServer https = HttpsServer.create(at, 0);
      https.setHttpsConfigurator(
          new HttpsConfigurator(tls) {
            @Override
            public void configure(HttpsParameters params) {
              SSLParameters p = tls.getDefaultSSLParameters();
              p.setNeedClientAuth(needClientAuth);
              params.setSSLParameters(p);
            }
          });
      server = https;
    }
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** {@code 127.0.0.1:<port>}. */
  String endpoint() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  /**
   * The route for {@code method} and the exact raw path-with-query, e.g. {@code /v1/kv/a?recurse}.
   */
  synchronized Route on(String method, String pathAndQuery) {
    return routes.computeIfAbsent(method + " " + pathAndQuery, k -> new Route());
  }

  /**
   * The route for {@code method} and every path-with-query starting with {@code prefix}; used when
   * a query holds a computed value (the {@code wait} left before a deadline). Exact routes win.
   */
  synchronized Route onPrefix(String method, String prefix) {
    return routes.computeIfAbsent(method + " " + prefix + "*", k -> new Route());
  }

  /** Takes the next request received, waiting up to {@code timeout}; {@code null} if none came. */
  Request next(Duration timeout) throws InterruptedException {
    return received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Takes requests until one with {@code method} and {@code pathAndQuery} arrives. */
  Request nextMatching(String method, String pathAndQuery, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "no " + method + " " + pathAndQuery + " within " + timeout + "; got " + all);
      }
      Request r = received.poll(left, TimeUnit.NANOSECONDS);
      if (r != null && r.method().equals(method) && r.pathAndQuery().equals(pathAndQuery)) {
        return r;
      }
    }
  }

  /** Every request received so far, in order. */
  List<Request> all() {
    return List.copyOf(all);
  }

  /** Requests that matched no scripted answer. */
  List<Request> unexpected() {
    return List.copyOf(unexpected);
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      Map<String, String> headers = new LinkedHashMap<>();
      ex.getRequestHeaders()
          .forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), String.join(",", v)));
      String rawQuery = ex.getRequestURI().getRawQuery();
      Request req =
          new Request(
              ex.getRequestMethod(),
              ex.getRequestURI().getRawPath(),
              rawQuery == null ? "" : rawQuery,
              headers,
              ex.getRequestBody().readAllBytes());
      all.add(req);
      received.add(req);
      Reply reply;
      synchronized (this) {
        Route route = routes.get(req.method() + " " + req.pathAndQuery());
        if (route == null) {
          for (Map.Entry<String, Route> e : routes.entrySet()) {
            String k = e.getKey();
            if (k.endsWith("*")
                && (req.method() + " " + req.pathAndQuery())
                    .startsWith(k.substring(0, k.length() - 1))) {
              route = e.getValue();
              break;
            }
          }
        }
        reply =
            route == null ? null : route.replies.isEmpty() ? route.always : route.replies.poll();
      }
      if (reply == null) {
        unexpected.add(req);
        reply = new Reply(599, Map.of(), "unscripted request " + req, null);
      }
      if (reply.gate() != null) {
        try {
          reply.gate().get();
        } catch (Exception e) {
          return; // the test is over; drop the exchange
        }
      }
      byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      reply.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
      ex.sendResponseHeaders(reply.status(), body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        try (OutputStream out = ex.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }

  private static Map<String, String> headers(String... pairs) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return m;
  }

  /** The docs' KV entry JSON for {@code key} with {@code value} (base64-encoded here). */
  static String entryJson(
      String key,
      String value,
      long createIndex,
      long modifyIndex,
      long lockIndex,
      long flags,
      String session) {
    String v =
        value == null
            ? "null"
            : "\""
                + java.util.Base64.getEncoder()
                    .encodeToString(value.getBytes(StandardCharsets.UTF_8))
                + "\"";
    return "{\"CreateIndex\":"
        + createIndex
        + ",\"ModifyIndex\":"
        + modifyIndex
        + ",\"LockIndex\":"
        + lockIndex
        + ",\"Key\":\""
        + key
        + "\",\"Flags\":"
        + flags
        + ",\"Value\":"
        + v
        + (session == null ? "" : ",\"Session\":\"" + session + "\"")
        + "}";
  }

  /** A txn answer with one KV result per entry JSON (Value null, as the docs say for writes). */
  static String txnOk(String... entries) {
    List<String> results = new ArrayList<>();
    for (String e : entries) {
      results.add("{\"KV\":" + e + "}");
    }
    return "{\"Results\":[" + String.join(",", results) + "],\"Errors\":null}";
  }

  /** A rolled-back txn answer (HTTP 409). */
  static String txnFailed(int opIndex, String what) {
    return "{\"Results\":null,\"Errors\":[{\"OpIndex\":"
        + opIndex
        + ",\"What\":\""
        + what
        + "\"}]}";
  }

  @Override
  public synchronized void close() {
    if (stopped) {
      return;
    }
    stopped = true;
    server.stop(0);
    executor.shutdownNow();
  }
}
