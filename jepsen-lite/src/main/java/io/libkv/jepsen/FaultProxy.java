package io.libkv.jepsen;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A TCP proxy for the connections one node opens to another: it listens on a loopback address, and
 * forwards each accepted connection to the target. Bytes from the opener to the target follow the
 * {@code up} link, the answers the {@code down} link, so a directed cut silences one direction of
 * every connection between two nodes, whoever opened it.
 *
 * <p>Plain blocking sockets: two threads per direction of each connection (a reader that stamps
 * chunks with their due time, a writer that waits for it), which keeps a delay a delay and not a
 * bandwidth limit. {@link #close()} closes the listener and every connection.
 */
final class FaultProxy implements AutoCloseable {
  private static final int CHUNK = 64 * 1024;
  private static final byte[] EOF = new byte[0];

  private final InetSocketAddress listen;
  private final InetSocketAddress target;
  private final Link up;
  private final Link down;
  private final ServerSocket server;
  private final Set<Closeable> connections = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private volatile boolean closed;

  /**
   * Starts listening.
   *
   * @throws UncheckedIOException naming the address if it cannot be bound
   */
  FaultProxy(InetSocketAddress listen, InetSocketAddress target, Link up, Link down) {
    this.listen = listen;
    this.target = target;
    this.up = up;
    this.down = down;
    try {
      server = new ServerSocket();
      server.setReuseAddress(true);
      server.bind(listen, 128);
    } catch (IOException e) {
      throw new UncheckedIOException("proxy " + up + " cannot listen on " + listen, e);
    }
    acceptor = new Thread(this::acceptLoop, "proxy-" + up + "-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  InetSocketAddress address() {
    return new InetSocketAddress(listen.getAddress(), server.getLocalPort());
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      Socket upstream = new Socket();
      try {
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        upstream.connect(target, 2000);
      } catch (IOException e) {
        // The target is down (killed or not started): refuse like it would.
        closeQuietly(client);
        closeQuietly(upstream);
        continue;
      }
      Connection c = new Connection(client, upstream);
      connections.add(c);
      c.start();
    }
  }

  /** One proxied connection: its two sockets and four pump threads. */
  private final class Connection implements Closeable {
    private final Socket client;
    private final Socket upstream;

    Connection(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }

    void start() {
      try {
        pump(client.getInputStream(), upstream.getOutputStream(), up, "up");
        pump(upstream.getInputStream(), client.getOutputStream(), down, "down");
      } catch (IOException e) {
        close();
      }
    }

    private void pump(InputStream in, OutputStream out, Link link, String dir) {
      BlockingQueue<Object[]> queue = new ArrayBlockingQueue<>(256);
      Thread reader =
          new Thread(
              () -> {
                byte[] buf = new byte[CHUNK];
                try {
                  while (true) {
                    int n = in.read(buf);
                    if (n < 0) {
                      break;
                    }
                    if (link.isCut()) {
                      link.taint(this);
                      continue;
                    }
                    long due = System.nanoTime() + link.delayNanos();
                    queue.put(new Object[] {Arrays.copyOf(buf, n), due});
                  }
                } catch (IOException e) {
                  // The socket was closed: end of this direction.
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                queue.offer(new Object[] {EOF, 0L});
              },
              "proxy-" + link + "-" + dir + "-read");
      Thread writer =
          new Thread(
              () -> {
                try {
                  while (true) {
                    Object[] item = queue.poll(1, TimeUnit.SECONDS);
                    if (item == null) {
                      if (isClosed()) {
                        return;
                      }
                      continue;
                    }
                    byte[] data = (byte[]) item[0];
                    if (data == EOF) {
                      break;
                    }
                    long wait = (long) item[1] - System.nanoTime();
                    while (wait > 0) {
                      LockSupport.parkNanos(wait);
                      wait = (long) item[1] - System.nanoTime();
                    }
                    if (link.isCut()) {
                      link.taint(this);
                      continue;
                    }
                    out.write(data);
                    out.flush();
                  }
                } catch (IOException e) {
                  // The other side is gone.
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                close();
              },
              "proxy-" + link + "-" + dir + "-write");
      reader.setDaemon(true);
      writer.setDaemon(true);
      reader.start();
      writer.start();
    }

    boolean isClosed() {
      return client.isClosed() || upstream.isClosed();
    }

    @Override
    public void close() {
      closeQuietly(client);
      closeQuietly(upstream);
      connections.remove(this);
    }
  }

  /** Closes every open connection (both ends see a reset), keeping the listener. */
  void dropConnections() {
    for (Closeable c : connections) {
      closeQuietly(c);
    }
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(server);
    dropConnections();
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // Closing is best effort: the socket may already be broken.
    }
  }

  @Override
  public String toString() {
    return "FaultProxy[" + up + " " + listen + " -> " + target + "]";
  }
}
