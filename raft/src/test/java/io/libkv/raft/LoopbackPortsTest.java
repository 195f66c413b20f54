package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LoopbackPortsTest {

  @Test
  void portsAreDistinctAcrossCallsBindableAndBelowTheEphemeralRange() throws Exception {
    Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    int ephemeralLow =
        Files.isReadable(range)
            ? Integer.parseInt(Files.readAllLines(range).get(0).trim().split("\\s+")[0])
            : 32_768;
    Set<Integer> seen = new HashSet<>();
    for (int call = 0; call < 50; call++) {
      List<Integer> ports = LoopbackPorts.reserve("127.0.0.1", 4);
      assertEquals(4, ports.size());
      for (int port : ports) {
        assertTrue(seen.add(port), "port " + port + " handed out twice");
        if (ephemeralLow > 11_000) {
          assertTrue(port < ephemeralLow, port + " is in the ephemeral range");
        }
      }
    }
    int port = LoopbackPorts.reserve("127.0.0.1");
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
    }
  }

  @Test
  void refusesWhatIsNotLoopbackAndNonsenseCounts() {
    IllegalArgumentException notLoopback =
        assertThrows(IllegalArgumentException.class, () -> LoopbackPorts.reserve("192.0.2.1", 1));
    assertTrue(notLoopback.getMessage().contains("192.0.2.1"), notLoopback.getMessage());
    assertThrows(IllegalArgumentException.class, () -> LoopbackPorts.reserve("127.0.0.1", 0));
  }
}
