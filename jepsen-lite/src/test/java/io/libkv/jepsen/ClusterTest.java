package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Backend;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The cluster's wiring without starting nodes: hosts files and one proxy per directed link. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterTest {
  private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

  @Test
  void eachNodeResolvesPeersToItsOwnProxies(@TempDir Path dir) throws IOException {
    try (Cluster c = new Cluster(Backend.EMBEDDED, 3, dir, Map.of(), QUIET)) {
      List<String> hosts = Files.readAllLines(c.node("n2").hostsFile);
      assertTrue(hosts.contains("127.0.0.1 n2"), hosts.toString());
      assertTrue(hosts.contains("127.0.2.1 n1"), hosts.toString());
      assertTrue(hosts.contains("127.0.2.3 n3"), hosts.toString());
    }
  }

  @Test
  void directedLinkProxyForwardsAndCuts(@TempDir Path dir) throws IOException {
    try (Cluster c = new Cluster(Backend.EMBEDDED, 3, dir, Map.of(), QUIET)) {
      Cluster.Node n1 = c.node("n1");
      Cluster.Node n2 = c.node("n2");
      // Stand in for node 2's Raft server on its real address.
      try (ServerSocket server =
          new ServerSocket(n2.raftPort, 10, InetAddress.getByName("127.0.0.1"))) {
        InetSocketAddress viaN1 =
            new InetSocketAddress(InetAddress.getByName("127.0.1.2"), n2.raftPort);
        try (Socket s = new Socket()) {
          s.connect(viaN1, 2000);
          try (Socket accepted = server.accept()) {
            s.getOutputStream().write(7);
            accepted.setSoTimeout(3000);
            assertEquals(7, accepted.getInputStream().read());
            c.partition(List.of(List.of(n1), List.of(n2, c.node("n3"))));
            assertTrue(c.link("n1", "n2").isCut() && c.link("n2", "n1").isCut());
            assertTrue(!c.link("n2", "n3").isCut());
            s.getOutputStream().write(8);
            accepted.setSoTimeout(400);
            assertThrows(SocketTimeoutException.class, () -> accepted.getInputStream().read());
            c.healAll();
            assertTrue(!c.link("n1", "n2").isCut());
          }
        }
      }
    }
  }

  @Test
  void sparesAreWiredButOutsideTheConfiguration(@TempDir Path dir) throws IOException {
    try (Cluster c = new Cluster(Backend.EMBEDDED, 3, 1, false, false, dir, Map.of(), QUIET)) {
      Cluster.Node n4 = c.node("n4");
      assertEquals(List.of("n1", "n2", "n3"), c.members().stream().map(n -> n.id).toList());
      assertEquals(List.of(n4), c.spares());
      assertTrue(Files.readAllLines(c.node("n1").hostsFile).contains("127.0.1.4 n4"));
      assertTrue(Files.readAllLines(n4.hostsFile).contains("127.0.4.2 n2"));
      assertTrue(!c.link("n4", "n1").isCut());
      // A member's data is never wiped; a joiner must start from nothing.
      assertThrows(IllegalStateException.class, () -> c.retire(c.node("n1")));
      Files.createDirectories(n4.dataDir);
      assertThrows(IllegalStateException.class, () -> c.launchJoiner(n4, 1000));
      c.retire(n4);
      assertTrue(!Files.exists(n4.dataDir));
      assertThrows(IllegalStateException.class, () -> c.shiftProcessClock(n4, 1));
    }
  }

  @Test
  void refusesNonsenseSizes(@TempDir Path dir) {
    assertThrows(
        IllegalArgumentException.class,
        () -> new Cluster(Backend.EMBEDDED, 0, dir, Map.of(), QUIET));
    assertThrows(
        IllegalArgumentException.class, () -> new Cluster(Backend.LMDB, 3, dir, Map.of(), QUIET));
    assertThrows(
        IllegalArgumentException.class,
        () -> new Cluster(Backend.ETCD, 3, 1, false, false, dir, Map.of(), QUIET));
    assertThrows(
        IllegalArgumentException.class,
        () -> new Cluster(Backend.EMBEDDED, 8, 2, false, false, dir, Map.of(), QUIET));
  }
}
