package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Config;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeOptionsTest {
  @Test
  void readsEveryFlag() {
    NodeOptions o =
        NodeOptions.parse(
            new String[] {
              "--id", "n2", "--peers", "n1=127.0.0.1:7001,n2=127.0.0.1:7002", "--data-dir", "/d/n2",
              "--join", "--option", "embedded.reads=stale", "--tls-cert", "c.pem", "--tls-key",
              "k.pem", "--tls-ca", "ca.pem"
            });
    assertEquals(List.of("n1=127.0.0.1:7001", "n2=127.0.0.1:7002"), o.peers());
    assertTrue(o.join());
    assertEquals("n2", o.config().nodeId().orElseThrow());
    assertEquals(Path.of("/d/n2"), o.config().dataDir().orElseThrow());
    assertEquals("stale", o.config().option("embedded.reads").orElseThrow());
    assertEquals(
        new Config.TlsFiles(Path.of("c.pem"), Path.of("k.pem"), Path.of("ca.pem")),
        o.config().tlsFiles().orElseThrow());
    NodeOptions plain =
        NodeOptions.parse(new String[] {"--id", "n1", "--peers", "n1=h:1", "--data-dir", "d"});
    assertFalse(plain.join());
    assertTrue(plain.config().tlsFiles().isEmpty());
  }

  @Test
  void refusesWhatItCannotUseNamingTheFlag() {
    String[][] bad = {
      {"--id", "n1", "--data-dir", "d"},
      {"--peers", "n1=h:1", "--data-dir", "d"},
      {"--id", "n1", "--peers", "n1=h:1"},
      {"--id", "n1", "--peers", "n1=h:1", "--data-dir", "d", "--tls-cert", "c.pem"},
      {"--id", "n1", "--peers", "n1=h:1", "--data-dir", "d", "--option", "novalue"},
      {"--id", "n1", "--peers", "n1=h:1", "--data-dir", "d", "--colour", "blue"},
      {"--id"}
    };
    String[] says = {
      "--peers", "--id", "--data-dir", "go together", "NAME=VALUE", "--colour", "needs a value"
    };
    for (int i = 0; i < bad.length; i++) {
      String[] args = bad[i];
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> NodeOptions.parse(args));
      assertTrue(e.getMessage().contains(says[i]), e.getMessage());
    }
  }
}
