package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FaultProxyTest {
  private ServerSocket echo;
  private final AtomicLong bytesAtServer = new AtomicLong();
  private final Link up = new Link("a", "b");
  private final Link down = new Link("b", "a");
  private FaultProxy proxy;

  @BeforeEach
  void start() throws IOException {
    echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t =
        new Thread(
            () -> {
              while (true) {
                Socket s;
                try {
                  s = echo.accept();
                } catch (IOException e) {
                  return;
                }
                Thread h =
                    new Thread(
                        () -> {
                          try (s) {
                            byte[] buf = new byte[4096];
                            int n;
                            while ((n = s.getInputStream().read(buf)) >= 0) {
                              bytesAtServer.addAndGet(n);
                              s.getOutputStream().write(buf, 0, n);
                            }
                          } catch (IOException e) {
                            // Client went away.
                          }
                        });
                h.setDaemon(true);
                h.start();
              }
            });
    t.setDaemon(true);
    t.start();
    proxy =
        new FaultProxy(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            (InetSocketAddress) echo.getLocalSocketAddress(),
            up,
            down);
  }

  @AfterEach
  void stop() throws IOException {
    proxy.close();
    echo.close();
  }

  private Socket connect() throws IOException {
    Socket s = new Socket();
    s.connect(proxy.address(), 2000);
    s.setSoTimeout(3000);
    return s;
  }

  private static byte[] roundTrip(Socket s, String msg) throws IOException {
    byte[] out = msg.getBytes(StandardCharsets.UTF_8);
    s.getOutputStream().write(out);
    byte[] in = new byte[out.length];
    int off = 0;
    InputStream is = s.getInputStream();
    while (off < in.length) {
      int n = is.read(in, off, in.length - off);
      if (n < 0) {
        throw new IOException("closed after " + off + " bytes");
      }
      off += n;
    }
    return in;
  }

  @Test
  void forwardsBothWays() throws IOException {
    try (Socket s = connect()) {
      assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), roundTrip(s, "hello"));
    }
  }

  @Test
  void cutUpLinkSilencesTheTargetAndHealCloses() throws IOException {
    try (Socket s = connect()) {
      roundTrip(s, "x");
      up.cut();
      s.setSoTimeout(500);
      assertThrows(SocketTimeoutException.class, () -> roundTrip(s, "lost"));
      assertEquals(1, bytesAtServer.get(), "the server must not have received the cut bytes");
      up.heal();
      // The connection lost bytes: healing closes it.
      s.setSoTimeout(3000);
      assertThrows(IOException.class, () -> roundTrip(s, "after"));
    }
    try (Socket s = connect()) {
      assertArrayEquals("fresh".getBytes(StandardCharsets.UTF_8), roundTrip(s, "fresh"));
    }
  }

  @Test
  void cutDownLinkDeliversRequestsButNotReplies() throws Exception {
    try (Socket s = connect()) {
      down.cut();
      s.setSoTimeout(500);
      assertThrows(SocketTimeoutException.class, () -> roundTrip(s, "ping"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (bytesAtServer.get() < 4 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertEquals(4, bytesAtServer.get(), "the request crosses the open direction");
      down.heal();
    }
  }

  @Test
  void newConnectionsDuringCutAreBlackholed() throws IOException {
    up.cut();
    down.cut();
    try (Socket s = connect()) {
      s.setSoTimeout(400);
      assertThrows(SocketTimeoutException.class, () -> roundTrip(s, "hi"));
    }
    up.heal();
    down.heal();
    try (Socket s = connect()) {
      assertArrayEquals("ok".getBytes(StandardCharsets.UTF_8), roundTrip(s, "ok"));
    }
  }

  @Test
  void delayDelaysEachDirection() throws IOException {
    try (Socket s = connect()) {
      roundTrip(s, "warm");
      up.delay(TimeUnit.MILLISECONDS.toNanos(150));
      down.delay(TimeUnit.MILLISECONDS.toNanos(100));
      long t0 = System.nanoTime();
      roundTrip(s, "slow");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms >= 250, "round trip took " + ms + " ms, expected >= 250");
      up.heal();
      down.heal();
      t0 = System.nanoTime();
      roundTrip(s, "fast");
      ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 250, "round trip after heal took " + ms + " ms");
    }
  }

  @Test
  void targetDownRefusesConnection() throws IOException {
    echo.close();
    try (Socket s = connect()) {
      s.setSoTimeout(3000);
      assertEquals(-1, readOrEof(s));
    }
  }

  private static int readOrEof(Socket s) {
    try {
      return s.getInputStream().read();
    } catch (IOException e) {
      return -1;
    }
  }
}
