package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcReplyProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.ReadIndexException;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.LeaderState;
import org.junit.jupiter.api.Test;

/** The rules of {@link ReadIndexRounds}, on stand-ins for Ratis' leader, appenders and replies. */
class ReadIndexRoundsTest {
  private static final RaftPeerId N1 = RaftPeerId.valueOf("n1");
  private static final RaftPeerId N2 = RaftPeerId.valueOf("n2");
  private static final RaftPeerId N3 = RaftPeerId.valueOf("n3");

  /** Ratis' leader state: counts the replies handed to it. */
  private static final class Leader {
    final AtomicInteger replies = new AtomicInteger();
    final LeaderState proxy =
        (LeaderState)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {LeaderState.class},
                (p, m, args) -> {
                  if (m.getName().equals("onAppendEntriesReply")) {
                    replies.incrementAndGet();
                  }
                  return null;
                });
  }

  private static RaftServer.Division division(
      boolean leader, List<RaftPeerId> voters, List<RaftPeerId> previous) {
    DivisionInfo info =
        (DivisionInfo)
            Proxy.newProxyInstance(
                ReadIndexRoundsTest.class.getClassLoader(),
                new Class<?>[] {DivisionInfo.class},
                (p, m, args) -> m.getName().equals("isLeader") ? leader : null);
    RaftConfiguration conf =
        (RaftConfiguration)
            Proxy.newProxyInstance(
                ReadIndexRoundsTest.class.getClassLoader(),
                new Class<?>[] {RaftConfiguration.class},
                (p, m, args) ->
                    switch (m.getName()) {
                      case "getCurrentPeers" -> peers(voters);
                      case "getPreviousPeers" -> peers(previous);
                      default -> throw new UnsupportedOperationException(m.getName());
                    });
    return (RaftServer.Division)
        Proxy.newProxyInstance(
            ReadIndexRoundsTest.class.getClassLoader(),
            new Class<?>[] {RaftServer.Division.class},
            (p, m, args) ->
                switch (m.getName()) {
                  case "getInfo" -> info;
                  case "getRaftConf" -> conf;
                  case "getId" -> N1;
                  default -> throw new UnsupportedOperationException(m.getName());
                });
  }

  private static Collection<RaftPeer> peers(List<RaftPeerId> ids) {
    List<RaftPeer> peers = new ArrayList<>();
    for (RaftPeerId id : ids) {
      peers.add(RaftPeer.newBuilder().setId(id).build());
    }
    return peers;
  }

  private static AppendEntriesReplyProto reply(long callId, boolean success) {
    return AppendEntriesReplyProto.newBuilder()
        .setServerReply(RaftRpcReplyProto.newBuilder().setCallId(callId).setSuccess(success))
        .build();
  }

  private static final List<RaftPeerId> THREE = List.of(N1, N2, N3);

  @Test
  void aRoundNeedsAMajoritysSuccessfulRepliesToCallsMadeAfterItBegan() {
    ReadIndexRounds rounds = new ReadIndexRounds(60_000);
    Leader leader = new Leader();
    StandInAppender to2 = new StandInAppender(N2);
    StandInAppender to3 = new StandInAppender(N3);
    LeaderState seen2 = rounds.observe(leader.proxy);
    LeaderState seen3 = rounds.observe(leader.proxy);
    rounds.started(leader.proxy, to2.proxy);
    rounds.started(leader.proxy, to3.proxy);

    long before = to2.send(); // in flight when the read arrives
    CompletableFuture<Void> read = rounds.confirm(division(true, THREE, List.of()));
    assertEquals(1, to2.heartbeats.get());
    assertEquals(1, to3.heartbeats.get());

    seen2.onAppendEntriesReply(to2.proxy, reply(before, true));
    assertFalse(read.isDone(), "a reply to a call made before the read confirms nothing");
    seen3.onAppendEntriesReply(to3.proxy, reply(to3.send(), false));
    assertFalse(read.isDone(), "an unsuccessful reply confirms nothing");
    assertEquals(2, leader.replies.get(), "Ratis still gets every reply");

    seen3.onAppendEntriesReply(to3.proxy, reply(to3.send(), true));
    assertTrue(read.isDone() && !read.isCompletedExceptionally(), "n1 and n3 are a majority");
    assertEquals(0, rounds.waiting());
  }

  @Test
  void aReplyFromAnotherAppenderOfTheSameFollowerDoesNotCount() {
    ReadIndexRounds rounds = new ReadIndexRounds(60_000);
    Leader leader = new Leader();
    StandInAppender to2 = new StandInAppender(N2);
    StandInAppender old2 = new StandInAppender(N2);
    LeaderState seen = rounds.observe(leader.proxy);
    rounds.started(leader.proxy, to2.proxy);
    CompletableFuture<Void> read = rounds.confirm(division(true, THREE, List.of()));
    seen.onAppendEntriesReply(old2.proxy, reply(old2.send() + 1_000, true));
    assertFalse(read.isDone());
    seen.onAppendEntriesReply(to2.proxy, reply(to2.send(), true));
    assertTrue(read.isDone());
  }

  @Test
  void duringAMembershipChangeBothConfigurationsMustConfirm() {
    ReadIndexRounds rounds = new ReadIndexRounds(60_000);
    Leader leader = new Leader();
    RaftPeerId n4 = RaftPeerId.valueOf("n4");
    RaftPeerId n5 = RaftPeerId.valueOf("n5");
    StandInAppender to2 = new StandInAppender(N2);
    StandInAppender to4 = new StandInAppender(n4);
    StandInAppender to5 = new StandInAppender(n5);
    LeaderState seen = rounds.observe(leader.proxy);
    for (StandInAppender a : List.of(to2, to4, to5)) {
      rounds.started(leader.proxy, a.proxy);
    }
    // Old configuration n1, n2, n3; new one n1, n4, n5.
    CompletableFuture<Void> read = rounds.confirm(division(true, List.of(N1, n4, n5), THREE));
    seen.onAppendEntriesReply(to4.proxy, reply(to4.send(), true));
    assertFalse(read.isDone(), "a majority of the new configuration only");
    seen.onAppendEntriesReply(to2.proxy, reply(to2.send(), true));
    assertTrue(read.isDone());
  }

  @Test
  void aMemberThatDoesNotLeadOrLosesItsLeadershipConfirmsNothing() throws Exception {
    ReadIndexRounds rounds = new ReadIndexRounds(60_000);
    assertFailsWithReadIndexException(rounds.confirm(division(false, THREE, List.of())));

    Leader first = new Leader();
    rounds.started(first.proxy, new StandInAppender(N2).proxy);
    CompletableFuture<Void> read = rounds.confirm(division(true, THREE, List.of()));
    rounds.started(new Leader().proxy, new StandInAppender(N2).proxy); // a new leadership
    assertFailsWithReadIndexException(read);
  }

  @Test
  void aRoundNoMajorityConfirmsFailsAfterItsTimeout() throws Exception {
    ReadIndexRounds rounds = new ReadIndexRounds(50);
    Leader leader = new Leader();
    rounds.started(leader.proxy, new StandInAppender(N2).proxy);
    rounds.started(leader.proxy, new StandInAppender(N3).proxy);
    assertFailsWithReadIndexException(rounds.confirm(division(true, THREE, List.of())));
    assertEquals(0, rounds.waiting());
  }

  @Test
  void aGroupOfOneConfirmsAtOnce() {
    ReadIndexRounds rounds = new ReadIndexRounds(60_000);
    assertTrue(rounds.confirm(division(true, List.of(N1), List.of())).isDone());
  }

  private static void assertFailsWithReadIndexException(CompletableFuture<Void> f)
      throws Exception {
    try {
      f.get(30, TimeUnit.SECONDS);
      throw new AssertionError("confirmed");
    } catch (ExecutionException e) {
      assertInstanceOf(ReadIndexException.class, e.getCause());
    }
  }
}
