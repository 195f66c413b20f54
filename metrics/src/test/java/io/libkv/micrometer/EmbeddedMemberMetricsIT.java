package io.libkv.micrometer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.raft.EmbeddedCluster;
import io.libkv.raft.EmbeddedNode;
import io.libkv.raft.MemberStatus;
import io.libkv.store.AsyncStore;
import io.libkv.store.KVPair;
import io.libkv.store.Locker;
import io.libkv.store.Store;
import io.libkv.store.Watch;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link EmbeddedMemberMetrics} on every member of a live 3-member cluster in this JVM. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class EmbeddedMemberMetricsIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  private static double gauge(MeterRegistry r, String name, String member) {
    return r.get(name).tag(EmbeddedMemberMetrics.MEMBER_TAG, member).gauge().value();
  }

  private static double role(MeterRegistry r, String member, MemberStatus.Role role) {
    return r.get("libkv.member.role")
        .tag(EmbeddedMemberMetrics.MEMBER_TAG, member)
        .tag(EmbeddedMemberMetrics.ROLE_TAG, role.name().toLowerCase(Locale.ROOT))
        .gauge()
        .value();
  }

  private static double dropped(MeterRegistry r, String member) {
    return r.get("libkv.member.watch.events.dropped")
        .tag(EmbeddedMemberMetrics.MEMBER_TAG, member)
        .functionCounter()
        .count();
  }

  private static void waitUntil(BooleanSupplier condition, Supplier<String> what)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("not within " + WAIT + ": " + what.get());
      }
      Thread.sleep(20);
    }
  }

  @Test
  void everyMemberReportsItsRoleIndexesSizesAndReadiness() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(3, dir)) {
      EmbeddedNode leader = cluster.awaitLeader(WAIT);
      try (Store s = leader.openStore()) {
        for (int i = 0; i < 20; i++) {
          s.put("m/" + i, "v".getBytes(UTF_8), null);
        }
      }
      long leaderCommit = leader.status().commitIndex();
      for (String id : cluster.runningIds()) {
        EmbeddedNode n = cluster.node(id);
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        // The public constructor for one member: its 100 ms sampling only delays what we wait for.
        (n == leader
                ? new EmbeddedMemberMetrics(n)
                : new EmbeddedMemberMetrics(n, System::nanoTime, Duration.ZERO))
            .bindTo(r);
        waitUntil(
            () ->
                gauge(r, "libkv.member.ready", id) == 1
                    && gauge(r, "libkv.member.applied.index", id) >= leaderCommit,
            () -> id + " ready and caught up: " + n.status());
        MemberStatus.Role expected =
            n == leader ? MemberStatus.Role.LEADER : MemberStatus.Role.FOLLOWER;
        waitUntil(() -> role(r, id, expected) == 1, () -> id + " " + expected + ": " + n.status());
        double roles = 0;
        for (MemberStatus.Role each : MemberStatus.Role.values()) {
          roles += role(r, id, each);
        }
        assertEquals(1, roles, "one role at a time");
        assertTrue(gauge(r, "libkv.member.term", id) >= 1, "term");
        assertTrue(gauge(r, "libkv.member.commit.index", id) >= leaderCommit, "commit index");
        assertTrue(gauge(r, "libkv.member.log.size", id) > 0, "log bytes");
        assertTrue(gauge(r, "libkv.member.disk.free", id) > 0, "free disk");
        assertTrue(gauge(r, "libkv.member.snapshot.index", id) >= -1, "snapshot index");
        assertTrue(gauge(r, "libkv.member.snapshot.size", id) >= 0, "snapshot bytes");
        assertEquals(0, gauge(r, "libkv.member.watches.open", id));
        assertEquals(0, gauge(r, "libkv.member.leases.live", id));
        assertEquals(0, dropped(r, id));
        assertEquals(
            "bytes", r.get("libkv.member.disk.free").gauge().getId().getBaseUnit(), "unit");
      }
    }
  }

  @Test
  void watchesLeasesDroppedEventsAndQueuedWritesAreCounted() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(3, dir)) {
      EmbeddedNode leader = cluster.awaitLeader(WAIT);
      String id =
          cluster.runningIds().stream().filter(x -> !x.equals(leader.id())).findFirst().get();
      EmbeddedNode n = cluster.node(id);
      SimpleMeterRegistry r = new SimpleMeterRegistry();
      new EmbeddedMemberMetrics(n, System::nanoTime, Duration.ZERO).bindTo(r);
      Store s = n.openStore();
      try {
        // A tree watch keeps 16 unread events; 40 unread changes make it drop the oldest.
        Watch<List<KVPair>> tree = s.watchTree("w");
        assertEquals(1, gauge(r, "libkv.member.watches.open", id));
        for (int i = 0; i < 40; i++) {
          s.put("w/" + i, "v".getBytes(UTF_8), null); // returns once this member applied it
        }
        assertEquals(0, dropped(r, id), "events are read (and dropped) by the reader only");
        while (tree.poll(Duration.ZERO) != null) {
          // drain what the watch kept
        }
        assertTrue(dropped(r, id) > 0, "dropped " + dropped(r, id));
        tree.close();
        assertEquals(0, gauge(r, "libkv.member.watches.open", id));

        Locker locker = s.newLock("locks/a", null);
        locker.lock(WAIT);
        assertTrue(gauge(r, "libkv.member.leases.live", id) >= 1, "the lock's lease");
        locker.unlock();
        waitUntil(
            () -> gauge(r, "libkv.member.leases.live", id) == 0,
            () -> "lease revoked: " + n.counters());

        // Without a majority, a write waits: it shows as queued, and the member is not ready.
        assertEquals(0, gauge(r, "libkv.member.writes.queued", id));
        for (String other : cluster.runningIds()) {
          if (!other.equals(id)) {
            cluster.stop(other);
          }
        }
        CompletableFuture<KVPair> stuck = ((AsyncStore) s).putAsync("q", new byte[1], null);
        assertEquals(1, gauge(r, "libkv.member.writes.queued", id), "queued: " + n.counters());
        waitUntil(
            () -> gauge(r, "libkv.member.ready", id) == 0,
            () -> "not ready without a leader: " + n.status());
        assertFalse(n.status().ready());
        s.close();
        assertTrue(stuck.isDone(), "closing the store fails its writes");
        // The member's channel gives the write up once its request times out.
        waitUntil(
            () -> gauge(r, "libkv.member.writes.queued", id) == 0,
            () -> "write given up: " + n.counters());
      } finally {
        s.close();
      }
    }
  }
}
