package io.libkv.raft;

import io.libkv.store.Store;
import io.libkv.store.conformance.StoreConformanceSuite;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole Store contract on a 3-member cluster whose leader is stopped in the middle of the
 * suite: the first {@link #STOP_AFTER} tests run with three members, the rest with the two that
 * remain (a new leader among them), so they must all pass across a leader change.
 */
class LeaderStopConformanceIT extends StoreConformanceSuite {
  static final int STOP_AFTER = 20;

  @TempDir static Path dir;
  private static EmbeddedCluster cluster;
  private static final AtomicInteger tests = new AtomicInteger();
  private static volatile String stopped;

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

  @BeforeEach
  void stopLeaderHalfWay() {
    if (tests.incrementAndGet() == STOP_AFTER + 1) {
      String leader = cluster.awaitLeader().id();
      cluster.stop(leader);
      stopped = leader;
      cluster.awaitLeader();
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

  @AfterAll
  static void leaderWasStopped() {
    if (tests.get() > STOP_AFTER && stopped == null) {
      throw new AssertionError("the leader was never stopped");
    }
  }
}
