package io.libkv.raft;

import static io.libkv.raft.EmbeddedClusterIT.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LogAppender;
import org.apache.ratis.util.Timestamp;
import org.junit.jupiter.api.Test;

/** The rules of {@link CommitAnnouncer}, on stand-ins for Ratis' appenders. */
class CommitAnnouncerTest {
  /**
   * A follower's appender: whether it runs, the commit index its follower last reported, when it
   * last sent a call, and how many heartbeats were asked of it.
   */
  private static final class Appender {
    final AtomicBoolean running = new AtomicBoolean(true);
    final AtomicLong followerCommit = new AtomicLong();
    final AtomicReference<Timestamp> lastSend =
        new AtomicReference<>(Timestamp.currentTime().addTimeMs(-60_000));
    final AtomicInteger heartbeats = new AtomicInteger();
    final LogAppender proxy;

    Appender() {
      FollowerInfo info =
          (FollowerInfo)
              Proxy.newProxyInstance(
                  getClass().getClassLoader(),
                  new Class<?>[] {FollowerInfo.class},
                  (p, m, args) ->
                      switch (m.getName()) {
                        case "getCommitIndex" -> followerCommit.get();
                        case "getLastRpcSendTime" -> lastSend.get();
                        default -> throw new UnsupportedOperationException(m.getName());
                      });
      proxy =
          (LogAppender)
              Proxy.newProxyInstance(
                  getClass().getClassLoader(),
                  new Class<?>[] {LogAppender.class},
                  (p, m, args) ->
                      switch (m.getName()) {
                        case "isRunning" -> running.get();
                        case "getFollower" -> info;
                        case "triggerHeartbeat" -> {
                          heartbeats.incrementAndGet();
                          yield null;
                        }
                        case "hashCode" -> System.identityHashCode(p);
                        case "equals" -> p == args[0];
                        default -> throw new UnsupportedOperationException(m.getName());
                      });
    }
  }

  private static void settle(CommitAnnouncer a) throws InterruptedException {
    waitUntil(() -> !a.pending(), Duration.ofSeconds(10), "the announcer's check");
  }

  @Test
  void aFollowerThatHeardNothingSinceTheCommitIsAskedForOneHeartbeat() throws Exception {
    Appender behind = new Appender();
    Appender knows = new Appender();
    Appender stopped = new Appender();
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
    Appender busy = new Appender();
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
    Appender behind = new Appender();
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
