package io.libkv.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Config;
import io.libkv.store.NotReachableException;
import io.libkv.store.Store;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ClusterAdmin} on live in-process clusters: status of every member, adding and removing
 * voting members and learners, promotion, leadership transfer, an unreachable member, bad requests.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClusterAdminIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Config CLIENT =
      Config.builder().connectionTimeout(Duration.ofSeconds(20)).build();

  @TempDir Path dir;

  @Test
  void membersListsEveryMemberWithOneLeaderAndAStoppedOneUnreachable() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(3, dir);
        ClusterAdmin admin = ClusterAdmin.connect(cluster.endpoints(), CLIENT)) {
      EmbeddedNode leader = cluster.awaitLeader(WAIT);
      List<MemberStatus> members =
          awaitMembers(
              admin,
              ms ->
                  ms.stream()
                      .allMatch(
                          m -> m.ready() && m.commitIndex() >= 0 && m.term() == ms.get(0).term()),
              "all ready in one term");
      assertEquals(List.of("n1", "n2", "n3"), members.stream().map(MemberStatus::id).toList());
      assertEquals(
          1, members.stream().filter(m -> m.role() == MemberStatus.Role.LEADER).count(), "leaders");
      for (MemberStatus m : members) {
        assertEquals(cluster.node(m.id()).endpoint(), m.endpoint());
        assertEquals(leader.status().term(), m.term(), m.toString());
        assertTrue(m.commitIndex() >= 0 && m.diskFreeBytes() > 0, m.toString());
      }

      // From a member in this process, without a cast.
      try (ClusterAdmin fromNode = leader.admin()) {
        assertEquals(3, fromNode.members().size());
      }

      String follower =
          cluster.runningIds().stream()
              .filter(id -> !id.equals(leader.id()))
              .findFirst()
              .orElseThrow();
      cluster.stop(follower);
      List<MemberStatus> after = admin.members();
      assertEquals(3, after.size(), after.toString());
      MemberStatus stopped = byId(after, follower);
      assertEquals(MemberStatus.Role.STOPPED, stopped.role());
      assertTrue(stopped.failure().orElse("").contains("no answer"), stopped.toString());
      assertEquals(MemberStatus.Role.LEADER, byId(after, leader.id()).role());
    }
  }

  @Test
  void addsAndRemovesAVotingMember() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(3, dir);
        ClusterAdmin admin = ClusterAdmin.connect(cluster.endpoints(), CLIENT)) {
      cluster.awaitLeader(WAIT);
      try (Store s = cluster.openStore()) {
        s.put("before", "1".getBytes(UTF_8), null);
      }
      String n4 = "n4=127.0.0.1:" + freePort();
      try (EmbeddedNode joined = join(cluster, n4)) {
        admin.addMember(n4);
        List<MemberStatus> members =
            awaitMembers(
                admin,
                ms -> ms.size() == 4 && byId(ms, "n4").role() == MemberStatus.Role.FOLLOWER,
                "n4 a follower");
        assertEquals(
            List.of("n1", "n2", "n3", "n4"), members.stream().map(MemberStatus::id).toList());
        try (Store s = joined.openStore()) {
          assertArrayEquals("1".getBytes(UTF_8), s.get("before").value());
        }
        IllegalArgumentException twice =
            assertThrows(IllegalArgumentException.class, () -> admin.addMember(n4));
        assertTrue(twice.getMessage().contains("already a voting member"), twice.getMessage());

        admin.removeMember("n4");
        assertEquals(
            List.of("n1", "n2", "n3"), admin.members().stream().map(MemberStatus::id).toList());
      }
    }
  }

  @Test
  void learnerReplicatesServesReadsAndIsPromoted() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(3, dir);
        ClusterAdmin admin = ClusterAdmin.connect(cluster.endpoints(), CLIENT)) {
      EmbeddedNode leader = cluster.awaitLeader(WAIT);
      String n4 = "n4=127.0.0.1:" + freePort();
      try (EmbeddedNode learner = join(cluster, n4, "learner")) {
        admin.addLearner(n4);
        awaitMembers(
            admin,
            ms -> ms.size() == 4 && byId(ms, "n4").role() == MemberStatus.Role.LEARNER,
            "n4 a learner");
        assertEquals(MemberStatus.Role.LEARNER, learner.status().role());
        try (Store w = leader.openStore()) {
          w.put("learned", "yes".getBytes(UTF_8), null);
        }
        try (Store r = learner.openStore()) {
          assertArrayEquals("yes".getBytes(UTF_8), r.get("learned").value());
        }
        long commit = leader.status().commitIndex();
        waitFor(() -> learner.status().appliedIndex() >= commit, "the learner applies the log");

        IllegalArgumentException notVoter =
            assertThrows(IllegalArgumentException.class, () -> admin.transferLeadership("n4"));
        assertTrue(notVoter.getMessage().contains("promote it first"), notVoter.getMessage());

        admin.promote("n4");
        awaitMembers(
            admin,
            ms -> ms.size() == 4 && byId(ms, "n4").role() == MemberStatus.Role.FOLLOWER,
            "n4 a voting member");
        IllegalArgumentException again =
            assertThrows(IllegalArgumentException.class, () -> admin.promote("n4"));
        assertTrue(again.getMessage().contains("not a learner"), again.getMessage());
        admin.removeMember("n4");
      }
    }
  }

  @Test
  void transfersTheLeadershipAndRefusesBadRequests() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(3, dir);
        ClusterAdmin admin = ClusterAdmin.connect(List.of(cluster.endpoints().get(0)), CLIENT)) {
      EmbeddedNode leader = cluster.awaitLeader(WAIT);
      String target =
          cluster.runningIds().stream()
              .filter(id -> !id.equals(leader.id()))
              .findFirst()
              .orElseThrow();
      admin.transferLeadership(target);
      assertTrue(
          cluster.node(target).isLeader()
              || byId(admin.members(), target).role() == MemberStatus.Role.LEADER);
      waitFor(() -> cluster.node(target).isLeader(), target + " leads");
      admin.transferLeadership(target); // already leads: nothing to do

      assertThrows(IllegalArgumentException.class, () -> admin.transferLeadership("n9"));
      assertThrows(IllegalArgumentException.class, () -> admin.removeMember("n9"));
      assertThrows(IllegalArgumentException.class, () -> admin.promote("n1"));
      assertThrows(IllegalArgumentException.class, () -> admin.addMember("no-port"));
      IllegalArgumentException taken =
          assertThrows(
              IllegalArgumentException.class,
              () -> admin.addLearner("n9=" + cluster.endpoints().get(1).split("=")[1]));
      assertTrue(taken.getMessage().contains("address"), taken.getMessage());
      NotReachableException absent =
          assertThrows(
              NotReachableException.class, () -> admin.addMember("n9=127.0.0.1:" + freePort()));
      assertTrue(absent.getMessage().contains("--join"), absent.getMessage());
      assertEquals(3, admin.members().size());
    }
  }

  @Test
  void refusesToRemoveTheLastVotingMember() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(1, dir);
        ClusterAdmin admin = ClusterAdmin.connect(cluster.endpoints(), CLIENT)) {
      cluster.awaitLeader(WAIT);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> admin.removeMember("n1"));
      assertTrue(e.getMessage().contains("last voting member"), e.getMessage());
    }
  }

  // ----------------------------------------------------------------------------- helpers

  private EmbeddedNode join(EmbeddedCluster cluster, String endpoint) {
    return join(cluster, endpoint, "member");
  }

  /** Starts a new member that waits to be added, as {@code joinAs} (member or learner). */
  private EmbeddedNode join(EmbeddedCluster cluster, String endpoint, String joinAs) {
    List<String> peers = new ArrayList<>(cluster.endpoints());
    peers.add(endpoint);
    String id = endpoint.substring(0, endpoint.indexOf('='));
    return EmbeddedNode.join(
        peers,
        Config.builder()
            .nodeId(id)
            .dataDir(dir.resolve(id))
            .option("embedded.electionTimeoutMs", "300")
            .option("embedded.joinAs", joinAs)
            .build());
  }

  private static MemberStatus byId(List<MemberStatus> members, String id) {
    return members.stream()
        .filter(m -> m.id().equals(id))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + id + " in " + members));
  }

  private static List<MemberStatus> awaitMembers(
      ClusterAdmin admin, Predicate<List<MemberStatus>> ok, String what)
      throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    List<MemberStatus> last = admin.members();
    while (!ok.test(last)) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("timed out waiting for " + what + ": " + last);
      }
      Thread.sleep(50);
      last = admin.members();
    }
    return last;
  }

  private static void waitFor(java.util.function.BooleanSupplier c, String what)
      throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    while (!c.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  private static int freePort() {
    return LoopbackPorts.reserve("127.0.0.1");
  }
}
