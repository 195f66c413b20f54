package io.libkv.etcd;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import io.libkv.store.conformance.StoreConformanceSuite;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/** The shared conformance suite against one real etcd server. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EtcdStoreConformanceIT extends StoreConformanceSuite {
  private static EtcdCluster etcd;

  @BeforeAll
  static void startEtcd() throws Exception {
    etcd = EtcdCluster.start(1);
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.close();
    }
  }

  @Override
  protected Store openStore() {
    return LibKV.newStore(
        Backend.ETCD,
        etcd.endpoints(),
        Config.builder().connectionTimeout(Duration.ofSeconds(10)).build());
  }

  @Override
  protected boolean isSharedThread(Thread thread) {
    // gRPC's Netty event loops and timers are shared by every channel in the JVM and outlive
    // one client by design (released a moment after the last channel closes).
    String n = thread.getName();
    return n.startsWith("grpc-") || n.startsWith("globalEventExecutor");
  }
}
