package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteRequestProto;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.ServerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fence's ordering, against a scripted server: a vote is decided only after every append with
 * entries that began before it has finished (synchronous or asynchronous); heartbeats do not hold
 * votes; a vote that cannot wait is refused, never decided early.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class VoteFenceTest {
  private static final AppendEntriesRequestProto APPEND =
      AppendEntriesRequestProto.newBuilder()
          .addEntries(LogEntryProto.newBuilder().setTerm(2).setIndex(4764))
          .buildPartial();
  private static final AppendEntriesRequestProto HEARTBEAT =
      AppendEntriesRequestProto.newBuilder().buildPartial();
  private static final RequestVoteRequestProto VOTE =
      RequestVoteRequestProto.newBuilder().buildPartial();

  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  /**
   * A server whose synchronous appends wait for {@code release}, whose asynchronous appends return
   * {@code asyncReply}, and which records the order calls reach it.
   */
  static final class Scripted {
    final List<String> reached = new CopyOnWriteArrayList<>();
    final CountDownLatch appendEntered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final CompletableFuture<AppendEntriesReplyProto> asyncReply = new CompletableFuture<>();

    RaftServer server() {
      return (RaftServer)
          Proxy.newProxyInstance(
              getClass().getClassLoader(),
              new Class<?>[] {RaftServer.class},
              (proxy, m, args) -> {
                switch (m.getName()) {
                  case "getId":
                    return RaftPeerId.valueOf("n1");
                  case "requestVote":
                    reached.add("vote");
                    return RequestVoteReplyProto.getDefaultInstance();
                  case "appendEntries":
                    reached.add("append-begin");
                    appendEntered.countDown();
                    if (((AppendEntriesRequestProto) args[0]).getEntriesCount() > 0) {
                      release.await();
                    }
                    reached.add("append-end");
                    return AppendEntriesReplyProto.getDefaultInstance();
                  case "appendEntriesAsync":
                    reached.add("append-async");
                    return asyncReply;
                  case "toString":
                    return "scripted";
                  default:
                    throw new UnsupportedOperationException(m.getName());
                }
              });
    }
  }

  /**
   * Asks {@code fenced} for a vote on a thread of its own and returns once that thread waits in the
   * fence (parked with a deadline: the vote's bounded wait for the exclusive stamp).
   */
  private Future<RequestVoteReplyProto> voteParkedInTheFence(RaftServer fenced)
      throws InterruptedException {
    AtomicReference<Thread> voter = new AtomicReference<>();
    Future<RequestVoteReplyProto> vote =
        pool.submit(
            () -> {
              voter.set(Thread.currentThread());
              return fenced.requestVote(VOTE);
            });
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (voter.get() == null || voter.get().getState() != Thread.State.TIMED_WAITING) {
      if (vote.isDone() || System.nanoTime() > end) {
        break; // decided early (the assertions say so) or never parked
      }
      Thread.onSpinWait();
    }
    return vote;
  }

  @Test
  void aVoteIsDecidedOnlyAfterAnAppendThatBeganBeforeIt() throws Exception {
    Scripted s = new Scripted();
    RaftServer fenced = VoteFence.wrap(s.server(), Duration.ofSeconds(20));
    Future<?> append = pool.submit(() -> fenced.appendEntries(APPEND));
    assertTrue(s.appendEntered.await(10, TimeUnit.SECONDS));
    Future<RequestVoteReplyProto> vote = voteParkedInTheFence(fenced);
    assertFalse(vote.isDone(), "the vote was decided while an append was under way");
    assertEquals(List.of("append-begin"), s.reached);
    s.release.countDown();
    append.get(10, TimeUnit.SECONDS);
    vote.get(10, TimeUnit.SECONDS);
    assertEquals(List.of("append-begin", "append-end", "vote"), s.reached);
  }

  @Test
  void anAsynchronousAppendHoldsVotesUntilItsReplyIsReady() throws Exception {
    Scripted s = new Scripted();
    RaftServer fenced = VoteFence.wrap(s.server(), Duration.ofSeconds(20));
    CompletableFuture<AppendEntriesReplyProto> reply = fenced.appendEntriesAsync(APPEND);
    Future<RequestVoteReplyProto> vote = voteParkedInTheFence(fenced);
    assertFalse(vote.isDone(), "the vote was decided before the append's reply");
    AppendEntriesReplyProto r = AppendEntriesReplyProto.getDefaultInstance();
    s.asyncReply.complete(r);
    assertSame(r, reply.get(10, TimeUnit.SECONDS));
    vote.get(10, TimeUnit.SECONDS);
    assertEquals(List.of("append-async", "vote"), s.reached);
  }

  @Test
  void heartbeatsDoNotHoldVotes() throws Exception {
    Scripted s = new Scripted();
    RaftServer fenced = VoteFence.wrap(s.server(), Duration.ofSeconds(20));
    fenced.appendEntries(HEARTBEAT);
    CompletableFuture<AppendEntriesReplyProto> pending = fenced.appendEntriesAsync(HEARTBEAT);
    fenced.requestVote(VOTE);
    assertFalse(pending.isDone());
    assertEquals(List.of("append-begin", "append-end", "append-async", "vote"), s.reached);
  }

  @Test
  void aVoteThatCannotWaitIsRefusedNotDecided() throws Exception {
    Scripted s = new Scripted();
    RaftServer fenced = VoteFence.wrap(s.server(), Duration.ofMillis(100));
    Future<?> append = pool.submit(() -> fenced.appendEntries(APPEND));
    assertTrue(s.appendEntered.await(10, TimeUnit.SECONDS));
    IOException e = assertThrows(IOException.class, () -> fenced.requestVote(VOTE));
    assertTrue(e.getMessage().contains("vote refused"), e.getMessage());
    assertFalse(s.reached.contains("vote"));
    s.release.countDown();
    append.get(10, TimeUnit.SECONDS);
    fenced.requestVote(VOTE); // the stamp was released: votes are decided again
    assertTrue(s.reached.contains("vote"));
  }

  @Test
  void aFailedAppendReleasesTheFence() throws Exception {
    Scripted s = new Scripted();
    RaftServer fenced = VoteFence.wrap(s.server(), Duration.ofSeconds(20));
    CompletableFuture<AppendEntriesReplyProto> reply = fenced.appendEntriesAsync(APPEND);
    s.asyncReply.completeExceptionally(new IOException("log failed"));
    assertTrue(reply.isCompletedExceptionally());
    fenced.requestVote(VOTE);
    assertEquals(List.of("append-async", "vote"), s.reached);
  }

  /** Ratis makes a member's transport from the class name in its properties. */
  @Test
  void ratisInstantiatesTheFencedTransportsByName() {
    for (SupportedRpcType t : List.of(SupportedRpcType.NETTY, SupportedRpcType.GRPC)) {
      RpcType type = RpcType.valueOf(VoteFence.of(t).name());
      Class<?> expected =
          t == SupportedRpcType.NETTY ? VoteFence.Netty.class : VoteFence.Grpc.class;
      assertEquals(expected, type.getClass());
      ServerFactory f = ServerFactory.cast(type.newFactory(new Parameters()));
      assertSame(type, f.getRpcType());
    }
  }
}
