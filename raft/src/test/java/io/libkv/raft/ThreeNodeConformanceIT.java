package io.libkv.raft;

import io.libkv.store.Store;
import io.libkv.store.conformance.StoreConformanceSuite;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole Store contract on a 3-member embedded cluster; successive stores are opened on
 * successive members, so a test's two clients usually sit on different members (one of them a
 * follower).
 *
 * <p>Tagged slow (run with {@code -Pslow}): it takes about 80 s on a 2-core machine, and {@link
 * LeaderStopConformanceIT}, in the default build, runs the same suite on 3 members up to its leader
 * stop and on the 2 survivors after it.
 */
@Tag("slow")
class ThreeNodeConformanceIT extends StoreConformanceSuite {
  @TempDir static Path dir;
  private static EmbeddedCluster cluster;

  @BeforeAll
  static void startCluster() {
    cluster = EmbeddedCluster.start(3, dir);
    cluster.awaitLeader();
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Override
  protected Store openStore() {
    return cluster.openStore();
  }

  @Override
  protected boolean isSharedThread(Thread thread) {
    return SharedThreads.isShared(thread);
  }
}
