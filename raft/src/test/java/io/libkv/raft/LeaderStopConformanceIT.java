package io.libkv.raft;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole Store contract on a 3-member cluster whose leader is stopped in the middle of the
 * suite: the first {@link #STOP_AFTER} tests run with three members, the rest with the two that
 * remain (a new leader among them), so they must all pass across a leader change.
 */
class LeaderStopConformanceIT extends EmbeddedConformanceBase {
  static final int STOP_AFTER = 20;

  @RegisterExtension static final EmbeddedClusterExtension KV = EmbeddedClusterExtension.nodes(3);
  private static final AtomicInteger tests = new AtomicInteger();
  private static volatile String stopped;

  @Override
  protected EmbeddedClusterExtension cluster() {
    return KV;
  }

  @BeforeEach
  void stopLeaderHalfWay() {
    if (tests.incrementAndGet() == STOP_AFTER + 1) {
      String leader = KV.cluster().awaitLeader().id();
      KV.cluster().stop(leader);
      stopped = leader;
      KV.cluster().awaitLeader();
    }
  }

  @AfterAll
  static void leaderWasStopped() {
    if (tests.get() > STOP_AFTER && stopped == null) {
      throw new AssertionError("the leader was never stopped");
    }
  }
}
