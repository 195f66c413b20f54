package io.libkv.consul;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A raw-socket HTTP/1.1 server for one purpose: to see from the server's side that the adapter
 * aborts a blocking query it no longer wants. It answers scripted {@code GET}s (recorded Consul
 * shapes, like {@link RecordedConsul}); a {@code GET} of {@code hangPath} is held unanswered while
 * the server reads the connection, and {@link #clientClosed} completes when the client closes it.
 */
final class HangingAgent implements AutoCloseable {
  /** A scripted answer: body and {@code X-Consul-Index}. */
  record Answer(int status, String body, long index) {}

  final CompletableFuture<Void> hangArrived = new CompletableFuture<>();
  final CompletableFuture<Void> clientClosed = new CompletableFuture<>();
  private final ServerSocket server;
  private final Map<String, Answer> answers = new ConcurrentHashMap<>();
  private final String hangPath;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  HangingAgent(String hangPath) throws IOException {
    this.hangPath = hangPath;
    server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::acceptLoop, "hanging-agent-accept");
    t.setDaemon(true);
    t.start();
  }

  String endpoint() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  HangingAgent answer(String pathAndQuery, int status, String body, long index) {
    answers.put(pathAndQuery, new Answer(status, body, index));
    return this;
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        sockets.add(s);
        Thread t = new Thread(() -> serve(s), "hanging-agent-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket s) {
    try (s) {
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
      OutputStream out = s.getOutputStream();
      while (true) {
        String requestLine = in.readLine();
        if (requestLine == null) {
          return;
        }
        String line;
        while ((line = in.readLine()) != null && !line.isEmpty()) {
          // headers are not needed here; GETs carry no body
        }
        String target = requestLine.split(" ")[1];
        if (target.equals(hangPath)) {
          hangArrived.complete(null);
          try {
            if (in.read() == -1) {
              clientClosed.complete(null);
            }
          } catch (IOException e) {
            clientClosed.complete(null);
          }
          return;
        }
        Answer a = answers.getOrDefault(target, new Answer(599, "unscripted " + target, 0));
        byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
        String head =
            "HTTP/1.1 "
                + a.status()
                + " X\r\nContent-Type: application/json\r\nX-Consul-Index: "
                + a.index()
                + "\r\nContent-Length: "
                + body.length
                + "\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
      }
    } catch (IOException e) {
      // connection gone
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
  }
}
