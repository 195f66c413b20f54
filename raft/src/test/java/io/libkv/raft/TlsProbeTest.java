package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * How often a store's failing calls probe the members (each probe of a plaintext member is a TLS
 * handshake that member logs as a garbled frame): a store without TLS whose probe found nothing
 * probes again only after a minute; a found problem is probed again after a second.
 */
class TlsProbeTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final List<InetSocketAddress> probed = new ArrayList<>();

  private TlsProbe probe(String answer) {
    return new TlsProbe(
        List.of("n1=127.0.0.1:7001"),
        null,
        now::get,
        m -> {
          probed.add(m);
          return answer;
        });
  }

  private void advance(long seconds) {
    now.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
  }

  @Test
  void aPlaintextStoreWhoseProbeFoundNothingProbesAgainAfterAMinute() {
    TlsProbe p = probe(null);
    assertNull(p.diagnose(), "a plaintext member is no TLS problem");
    assertEquals(1, probed.size());
    advance(2); // past the one second a found problem is kept
    assertNull(p.diagnose());
    advance(57);
    assertNull(p.diagnose());
    assertEquals(1, probed.size(), "probed the plaintext member again within the minute");
    advance(2);
    assertNull(p.diagnose());
    assertEquals(2, probed.size(), "not probed again after the minute");
  }

  @Test
  void aFoundProblemIsProbedAgainAfterASecond() {
    TlsProbe p = probe("member 127.0.0.1:7001 speaks TLS");
    assertEquals("member 127.0.0.1:7001 speaks TLS", p.diagnose());
    assertEquals("member 127.0.0.1:7001 speaks TLS", p.diagnose());
    assertEquals(1, probed.size(), "a burst of failing calls probes once");
    advance(2);
    p.diagnose();
    assertEquals(2, probed.size());
  }
}
