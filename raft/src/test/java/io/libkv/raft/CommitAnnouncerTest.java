package io.libkv.raft;

import static io.libkv.raft.EmbeddedClusterIT.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.util.Timestamp;
import org.junit.jupiter.api.Test;

/** The rules of {@link CommitAnnouncer}, on stand-ins for Ratis' appenders. */
class CommitAnnouncerTest {
  private static void settle(CommitAnnouncer a) throws InterruptedException {
    waitUntil(() -> !a.pending(), Duration.ofSeconds(10), "the announcer's check");
  }

  @Test
  void aFollowerThatHeardNothingSinceTheCommitIsAskedForOneHeartbeat() throws Exception {
    StandInAppender behind = new StandInAppender(RaftPeerId.valueOf("n2"));
    StandInAppender knows = new StandInAppender(RaftPeerId.valueOf("n2"));
    StandInAppender stopped = new StandInAppender(RaftPeerId.valueOf("n2"));
    behind.followerCommit.set(6);
    knows.followerCommit.set(7);
    stopped.running.set(false);
    try (CommitAnnouncer a =
        new CommitAnnouncer(() -> List.of(behind.proxy, knows.proxy, stopped.proxy), "test")) {
      a.committed(7);
      waitUntil(() -> behind.heartbeats.get() == 1, Duration.ofSeconds(10), "a heartbeat");
      settle(a);
      assertEquals(1, behind.heartbeats.get());
      assertEquals(0, knows.heartbeats.get(), "its follower reported the commit");
      assertEquals(0, stopped.heartbeats.get(), "its follower left, or the leadership ended");
    }
  }

  @Test
  void aFollowerSentACallAfterTheCommitIsNotAskedAgain() throws Exception {
    StandInAppender busy = new StandInAppender(RaftPeerId.valueOf("n2"));
    busy.followerCommit.set(6);
    try (CommitAnnouncer a = new CommitAnnouncer(() -> List.of(busy.proxy), "test")) {
      // The next write's AppendEntries, sent after the commit, carried it.
      busy.lastSend.set(Timestamp.currentTime().addTimeMs(60_000));
      a.committed(7);
      settle(a);
      assertEquals(0, busy.heartbeats.get());
    }
  }

  @Test
  void commitsInARowAreAnnouncedOnceTheLatestIsOld() throws Exception {
    StandInAppender behind = new StandInAppender(RaftPeerId.valueOf("n2"));
    try (CommitAnnouncer a = new CommitAnnouncer(() -> List.of(behind.proxy), "test")) {
      for (long i = 1; i <= 50; i++) {
        a.committed(i);
      }
      waitUntil(() -> behind.heartbeats.get() >= 1, Duration.ofSeconds(10), "a heartbeat");
      settle(a);
      assertEquals(1, behind.heartbeats.get());
    }
  }

  @Test
  void noLeadershipNoAnnouncementAndAClosedAnnouncerSchedulesNothing() throws Exception {
    CommitAnnouncer a = new CommitAnnouncer(List::of, "test");
    a.committed(3);
    settle(a);
    a.close();
    a.committed(4);
    assertEquals(false, a.pending());
  }
}
