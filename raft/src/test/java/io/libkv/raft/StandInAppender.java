package io.libkv.raft;

import java.lang.reflect.Proxy;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LogAppender;
import org.apache.ratis.util.Timestamp;

/**
 * A stand-in for a leader's log appender to one follower, for tests of what watches appenders: its
 * next call id, how many heartbeats were asked of it, whether it runs, and what its follower last
 * reported (commit index) and was last sent (time). Any other call fails the test.
 */
final class StandInAppender {
  final RaftPeerId follower;
  final AtomicLong nextCallId = new AtomicLong(100);
  final AtomicInteger heartbeats = new AtomicInteger();
  final AtomicBoolean running = new AtomicBoolean(true);
  final AtomicLong followerCommit = new AtomicLong();
  final AtomicReference<Timestamp> lastSend =
      new AtomicReference<>(Timestamp.currentTime().addTimeMs(-60_000));
  final LogAppender proxy;

  StandInAppender(RaftPeerId follower) {
    this.follower = follower;
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
    this.proxy =
        (LogAppender)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {LogAppender.class},
                (p, m, args) ->
                    switch (m.getName()) {
                      case "getFollowerId" -> follower;
                      case "getFollower" -> info;
                      case "isRunning" -> running.get();
                      case "getCallId" -> nextCallId.get();
                      case "getCallIdComparator" -> Comparator.<Long>naturalOrder();
                      case "triggerHeartbeat" -> {
                        heartbeats.incrementAndGet();
                        yield null;
                      }
                      case "hashCode" -> System.identityHashCode(p);
                      case "equals" -> p == args[0];
                      default -> throw new UnsupportedOperationException(m.getName());
                    });
  }

  /** Sends a call: returns its id. */
  long send() {
    return nextCallId.getAndIncrement();
  }
}
