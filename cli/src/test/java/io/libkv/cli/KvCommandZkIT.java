package io.libkv.cli;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * {@code ./libkv kv} against a real ZooKeeper server (ZooKeeper's own server classes, through
 * curator-test) in this JVM on 127.0.0.1, set up as the zk backend documents for TTLs and locks.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class KvCommandZkIT extends KvCommandSuite {
  static TestingServer server;

  @BeforeAll
  static void startServer() throws Exception {
    // TTL znodes, expired ones checked every 100 ms (TTL within ttl + 1 s), no admin web server.
    System.setProperty("zookeeper.extendedTypesEnabled", "true");
    System.setProperty("znode.container.checkIntervalMs", "100");
    System.setProperty("zookeeper.admin.enableServer", "false");
    // Sessions (a lock's TTL) from 1 s to 60 s.
    Map<String, Object> cfg =
        Map.of(
            "minSessionTimeout",
            "1000",
            "maxSessionTimeout",
            "60000",
            "admin.enableServer",
            "false");
    InstanceSpec spec = new InstanceSpec(null, -1, -1, -1, true, -1, 500, -1, cfg, "127.0.0.1");
    server = new TestingServer(spec, true);
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Override
  List<String> connection() {
    return List.of("--backend", "zk", "--endpoints", "127.0.0.1:" + server.getPort());
  }

  /** ZooKeeper keeps no history: it can resume only if nothing changed since the index. */
  @Override
  boolean replaysHistory() {
    return false;
  }
}
