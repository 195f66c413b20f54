package io.libkv.zookeeper;

import io.libkv.store.Store;
import io.libkv.store.conformance.StoreConformanceSuite;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/** The shared conformance suite against one real ZooKeeper server. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ZkStoreConformanceIT extends StoreConformanceSuite {
  /** Threads of the in-JVM server that it starts lazily, as clients connect. */
  private static final List<String> SERVER_THREADS =
      List.of("NIOWorkerThread", "NIOServerCxnFactory", "ConnnectionExpirer", "SessionTracker");

  private static TestingServer server;

  @BeforeAll
  static void startServer() throws Exception {
    server = ZkTestServers.standalone(ZkTestServers.NIO_FACTORY);
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Override
  protected Store openStore() {
    return ZkTestServers.open(
        server.getConnectString(), ZkTestServers.config(Duration.ofSeconds(10)).build());
  }

  @Override
  protected Set<Gap> gaps() {
    return EnumSet.of(Gap.WATCH_RESUME);
  }

  @Override
  protected boolean isSharedThread(Thread thread) {
    return SERVER_THREADS.stream().anyMatch(thread.getName()::startsWith);
  }
}
