package io.libkv.jepsen;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * The harness's connection to one node's control port ({@link NodeMain}): sends one request line
 * and waits for its answer up to a timeout. A timeout or a broken connection yields {@code null}
 * (the outcome is unknown) and drops the connection; the next call reconnects. A node that refuses
 * the connection yields {@link #UNSENT}: the request certainly did nothing.
 *
 * <p>Commands: {@code PING}; {@code NANOTIME} ({@code OK nanos}: the process's System.nanoTime);
 * {@code ROLE} ({@code OK leader} or {@code OK follower}); {@code GET k} (answers {@code OK value
 * index} or {@code NOTFOUND}); {@code PUT k v}; {@code CAS k v prevIndex} (0 creates; {@code OK
 * index} or {@code CONFLICT}); {@code LIST dir}; {@code LOCK k ttlMs waitMs} ({@code OK token
 * lockId}); {@code UNLOCK lockId}; {@code WATCH k afterIndex} ({@code OK watchId}); {@code WATCHLOG
 * watchId} ({@code OK idx:value ...}); {@code CLOCK jumpMs rate}; {@code MEMBERS id=host:port,...}
 * (replaces the Raft configuration; OK once it is committed). Store errors come back as {@code ERR
 * Type message}.
 *
 * <p>Not thread-safe: one client per harness thread.
 */
final class NodeClient implements AutoCloseable {
  /** The answer when the node could not even be reached: the request was never sent. */
  static final String UNSENT = "UNSENT";

  private final int port;
  private Socket socket;
  private BufferedReader in;
  private OutputStream out;

  NodeClient(int port) {
    this.port = port;
  }

  /** Sends {@code request}; returns the answer, or {@code null} if none came within the timeout. */
  String call(String request, int timeoutMs) {
    try {
      if (socket == null) {
        socket = new Socket();
        try {
          socket.connect(
              new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port),
              Math.min(timeoutMs, 2000));
        } catch (IOException e) {
          close();
          return UNSENT;
        }
        socket.setTcpNoDelay(true);
        in =
            new BufferedReader(
                new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        out = socket.getOutputStream();
      }
      socket.setSoTimeout(timeoutMs);
      out.write((request + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      String line = in.readLine();
      if (line == null) {
        close();
      }
      return line;
    } catch (SocketTimeoutException e) {
      close();
      return null;
    } catch (IOException e) {
      close();
      return null;
    }
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // Broken already.
      }
      socket = null;
    }
  }
}
