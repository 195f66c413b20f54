package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.thirdparty.io.netty.channel.DefaultEventLoop;
import org.apache.ratis.thirdparty.io.netty.util.concurrent.EventExecutor;
import org.apache.ratis.thirdparty.io.netty.util.internal.ThreadExecutorMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The router's transport rules, against a scripted transport: no send from a transport event loop
 * (Ratis' Netty transport would connect there by blocking, which Netty refuses, and keep that
 * member's connection slot failed for good), and a send that failed outside I/O resets the member's
 * connection and is retried.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RequestRouterTest {
  private static final RaftPeer A =
      RaftPeer.newBuilder().setId("a").setAddress("127.0.0.1:1").build();
  private static final RaftPeer B =
      RaftPeer.newBuilder().setId("b").setAddress("127.0.0.1:2").build();
  private static final RaftGroup GROUP = RaftGroup.valueOf(RaftGroupId.randomId(), A, B);

  private final DefaultEventLoop loop = new DefaultEventLoop();

  @AfterEach
  void stopLoop() throws Exception {
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
  }

  /** What the transport saw of one send. */
  record Sent(RaftPeerId to, EventExecutor onLoop) {}

  /** A transport whose every send is answered by {@code answer}; it records each send. */
  static final class ScriptedRpc implements RaftClientRpc {
    final List<Sent> sent = new CopyOnWriteArrayList<>();
    final List<String> resets = new CopyOnWriteArrayList<>();
    final java.util.Set<RaftPeerId> known = java.util.concurrent.ConcurrentHashMap.newKeySet();
    final Function<RaftClientRequest, CompletableFuture<RaftClientReply>> answer;

    ScriptedRpc(Function<RaftClientRequest, CompletableFuture<RaftClientReply>> answer) {
      this.answer = answer;
      addRaftPeers(GROUP.getPeers()); // as the Ratis client that owns a transport does
    }

    @Override
    public CompletableFuture<RaftClientReply> sendRequestAsync(RaftClientRequest r) {
      sent.add(new Sent(r.getServerId(), ThreadExecutorMap.currentExecutor()));
      if (!known.contains(r.getServerId())) {
        // As Ratis' transports answer a send to a member whose address they were never given.
        return CompletableFuture.failedFuture(
            new NullPointerException("Server " + r.getServerId() + " not found"));
      }
      return answer.apply(r);
    }

    @Override
    public RaftClientReply sendRequest(RaftClientRequest r) throws IOException {
      throw new IOException("blocking sends are not used by the router");
    }

    @Override
    public boolean handleException(RaftPeerId serverId, Throwable t, boolean reconnect) {
      if (reconnect) {
        resets.add(serverId + ":" + t.getClass().getSimpleName());
      }
      return reconnect;
    }

    @Override
    public void addRaftPeers(java.util.Collection<RaftPeer> peers) {
      peers.forEach(p -> known.add(p.getId()));
    }

    @Override
    public void close() {}
  }

  private static RaftClientReply ok(RaftClientRequest r) {
    return RaftClientReply.newBuilder()
        .setRequest(r)
        .setSuccess()
        .setMessage(Message.EMPTY)
        .build();
  }

  @Test
  void aRedirectLearntOnATransportEventLoopIsSentFromElsewhere() throws Exception {
    ScriptedRpc rpc =
        new ScriptedRpc(
            r -> {
              CompletableFuture<RaftClientReply> f = new CompletableFuture<>();
              if (r.getServerId().equals(A.getId())) {
                // a does not lead and says b does; the reply arrives on a transport event loop.
                NotLeaderException nle =
                    new NotLeaderException(
                        RaftGroupMemberId.valueOf(A.getId(), GROUP.getGroupId()),
                        B,
                        GROUP.getPeers());
                loop.execute(() -> f.completeExceptionally(nle));
              } else {
                loop.execute(() -> f.complete(ok(r)));
              }
              return f;
            });
    RequestRouter router = new RequestRouter(GROUP, rpc, SupportedRpcType.NETTY, null);
    try {
      router.send(Message.valueOf("entry"), 10_000).get(10, TimeUnit.SECONDS);
      assertEquals(2, rpc.sent.size(), "sent to a, then redirected to b: " + rpc.sent);
      assertEquals(B.getId(), rpc.sent.get(1).to());
      assertNull(rpc.sent.get(1).onLoop(), "the redirect was sent from a transport event loop");
      assertEquals(1, router.redirects());
      assertEquals(B.getId(), router.leader());
    } finally {
      router.close();
    }
  }

  /**
   * A member added after the router was made leads: the redirect to it carries the configuration,
   * whose addresses the transport learns before the resend (it would fail every send to the new
   * member otherwise, and writes would stall until the deadline).
   */
  @Test
  void aLeaderThatJoinedAfterTheRouterWasMadeIsReachedThroughTheRedirect() throws Exception {
    RaftPeer c = RaftPeer.newBuilder().setId("c").setAddress("127.0.0.1:3").build();
    ScriptedRpc rpc =
        new ScriptedRpc(
            r ->
                r.getServerId().equals(c.getId())
                    ? CompletableFuture.completedFuture(ok(r))
                    : CompletableFuture.failedFuture(
                        new NotLeaderException(
                            RaftGroupMemberId.valueOf(r.getServerId(), GROUP.getGroupId()),
                            c,
                            List.of(A, B, c))));
    RequestRouter router = new RequestRouter(GROUP, rpc, SupportedRpcType.NETTY, null);
    try {
      RaftClientReply reply =
          router.send(Message.valueOf("entry"), 10_000).get(10, TimeUnit.SECONDS);
      assertTrue(reply.isSuccess());
      assertEquals(2, rpc.sent.size(), "sent to a member, then to c: " + rpc.sent);
      assertEquals(c.getId(), router.leader());
    } finally {
      router.close();
    }
  }

  /**
   * Each write entry carries the lowest call id the router still awaits (its own included): a
   * member recognises a copy of a call below it as finished (see ClientCall).
   */
  @Test
  void everyEntryCarriesTheLowestCallStillAwaited() throws Exception {
    List<RaftClientRequest> requests = new CopyOnWriteArrayList<>();
    List<CompletableFuture<RaftClientReply>> replies = new CopyOnWriteArrayList<>();
    ScriptedRpc rpc =
        new ScriptedRpc(
            r -> {
              requests.add(r);
              CompletableFuture<RaftClientReply> f = new CompletableFuture<>();
              replies.add(f);
              return f;
            });
    RequestRouter router = new RequestRouter(GROUP, rpc, SupportedRpcType.NETTY, null);
    try {
      CompletableFuture<RaftClientReply> first = router.sendWrites(new byte[] {1}, 10_000);
      CompletableFuture<RaftClientReply> second = router.sendWrites(new byte[] {2}, 10_000);
      long firstCall = requests.get(0).getCallId();
      long secondCall = requests.get(1).getCallId();
      assertTrue(secondCall > firstCall);
      assertEquals(firstCall, Wire.floor(requests.get(0).getMessage().getContent(), -1));
      assertEquals(
          firstCall,
          Wire.floor(requests.get(1).getMessage().getContent(), -1),
          "the first call is still awaited");
      replies.get(0).complete(ok(requests.get(0)));
      first.get(10, TimeUnit.SECONDS);
      router.sendWrites(new byte[] {3}, 10_000);
      assertEquals(
          secondCall,
          Wire.floor(requests.get(2).getMessage().getContent(), -1),
          "the first call is answered; the second is still awaited");
      replies.get(1).complete(ok(requests.get(1)));
      second.get(10, TimeUnit.SECONDS);
      router.sendWrites(new byte[] {4}, 10_000);
      assertEquals(
          requests.get(2).getCallId(), Wire.floor(requests.get(3).getMessage().getContent(), -1));
    } finally {
      router.close();
    }
  }

  @Test
  void aSendThatFailsOutsideIoResetsTheConnectionAndIsRetried() throws Exception {
    // Ratis 3.3.0's answer for a member whose connection slot failed while being created.
    ScriptedRpc rpc =
        new ScriptedRpc(
            new Function<>() {
              private int calls;

              @Override
              public synchronized CompletableFuture<RaftClientReply> apply(RaftClientRequest r) {
                if (calls++ == 0) {
                  return CompletableFuture.failedFuture(
                      new IllegalStateException(
                          "ILLEGAL TRANSITION: In a|a:1, EXCEPTION -> STARTING"));
                }
                return CompletableFuture.completedFuture(ok(r));
              }
            });
    RequestRouter router = new RequestRouter(GROUP, rpc, SupportedRpcType.NETTY, null);
    try {
      RaftClientReply reply =
          router.send(Message.valueOf("entry"), 10_000).get(10, TimeUnit.SECONDS);
      assertTrue(reply.isSuccess());
      assertEquals(2, rpc.sent.size(), "the failed send was retried: " + rpc.sent);
      assertEquals(
          List.of(rpc.sent.get(0).to() + ":TransportFailure"),
          rpc.resets,
          "the failed member's connection was reset");
    } finally {
      router.close();
    }
  }

  @Test
  void aQueryThatFailsOutsideIoFailsRetriablyAndResetsTheConnection() throws Exception {
    ScriptedRpc rpc =
        new ScriptedRpc(
            r ->
                CompletableFuture.failedFuture(
                    new IllegalStateException(
                        "ILLEGAL TRANSITION: In a|a:1, EXCEPTION -> STARTING")));
    RequestRouter router = new RequestRouter(GROUP, rpc, SupportedRpcType.NETTY, null);
    try {
      CompletableFuture<RaftClientReply> f = router.query(Message.valueOf("q"), false);
      Throwable e =
          RatisErrors.unwrap(
              org.junit.jupiter.api.Assertions.assertThrows(
                  java.util.concurrent.ExecutionException.class,
                  () -> f.get(10, TimeUnit.SECONDS)));
      // An IOException: the channel's read retry takes it up again.
      assertTrue(e instanceof RequestRouter.TransportFailure, "failed with " + e);
      assertEquals(1, rpc.resets.size(), "the connection was reset: " + rpc.resets);
    } finally {
      router.close();
    }
  }
}
