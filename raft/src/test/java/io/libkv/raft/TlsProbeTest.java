package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A store without TLS probes a plaintext member (a TLS handshake the member logs as a garbled
 * frame) once, not on every failing call: the clean result holds for a minute.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TlsProbeTest {
  @Test
  void aPlaintextStoreProbesAPlaintextMemberOncePerMinute() throws Exception {
    AtomicInteger accepted = new AtomicInteger();
    try (ServerSocket member = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread server =
          new Thread(
              () -> {
                while (!member.isClosed()) {
                  try (Socket s = member.accept();
                      InputStream in = s.getInputStream()) {
                    accepted.incrementAndGet();
                    // A plaintext member reads the handshake and answers nothing.
                    in.read(new byte[4096]);
                    Thread.sleep(1500);
                  } catch (IOException | InterruptedException e) {
                    return;
                  }
                }
              },
              "plaintext-member");
      server.setDaemon(true);
      server.start();
      TlsProbe probe = new TlsProbe(List.of("n1=127.0.0.1:" + member.getLocalPort()), null);
      assertNull(probe.diagnose(), "a plaintext member is no TLS problem");
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (accepted.get() == 0 && System.nanoTime() < end) {
        Thread.sleep(10); // the member's thread counts the connection it accepted
      }
      assertEquals(1, accepted.get());
      Thread.sleep(1200); // past the one-second cache of a TLS store's results
      assertNull(probe.diagnose());
      Thread.sleep(200); // a probe that was made would have been accepted by now
      assertEquals(1, accepted.get(), "probed the plaintext member again within the minute");
    }
  }
}
