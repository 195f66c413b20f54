package io.libkv.raft;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.ToIntFunction;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One store's connection to the Raft group: writes, grouped by a {@link GroupCommitter}, go to the
 * leader by the {@link RequestRouter} (straight into the local member while it leads); linearizable
 * reads first pass a ReadIndex barrier, served by the local member when there is one. Thread-safe.
 */
final class RaftChannel<Q, R> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RaftChannel.class);
  private static final long RETRY_SLEEP_MS = 100;

  /**
   * Writes (by encoded size) one store may have queued or in flight; beyond it a write waits for
   * room up to the connection timeout (back-pressure on pipelined writers), then fails.
   */
  static final int MAX_QUEUED_BYTES = 64 << 20;

  private final RaftClient client;
  private final RequestRouter router;
  private final RequestRouter.Local local;
  private final LongFunction<CompletableFuture<Void>> awaitLocalApply;
  private final boolean localReadIndex;
  // The highest log index of a write acknowledged through this channel (see ownWritesApplied).
  private final AtomicLong written = new AtomicLong();
  private final List<String> endpoints;
  private final GroupCommitter<Q, R> writes;
  private final GroupCommitter<Boolean, Boolean> barriers;
  private final long readRetryNs;
  private volatile boolean closed;

  /**
   * @param local the member in this process (writes go straight into it while it leads; reads use
   *     its state), or {@code null} for none
   * @param encodeBatch turns a batch of encoded commands into one entry payload
   * @param decodeResults splits an entry's reply body into one encoded result per command
   * @param sizer estimates a command's encoded size, to bound an entry's size
   * @param awaitLocalApply completes once the local member has applied a log index (a barrier
   *     answered by another member waits for the local copy to reach it; see {@link
   *     #ownWritesApplied()}), or {@code null} without a local member
   * @param redrain sends the writes that queued up while others were in flight (see {@link
   *     GroupCommitter}): a member's own executor, so that its apply thread, which completes the
   *     entries it took, never sends
   */
  RaftChannel(
      RaftGroup group,
      RequestRouter.Local local,
      RaftSettings settings,
      Function<List<Q>, byte[]> encodeBatch,
      Function<byte[], List<R>> decodeResults,
      ToIntFunction<Q> sizer,
      LongFunction<CompletableFuture<Void>> awaitLocalApply,
      Executor redrain) {
    this.local = local;
    this.awaitLocalApply = awaitLocalApply;
    // Ratis 3.3.0's Netty transport cannot carry a follower's ReadIndex request to the leader:
    // there a follower's barrier goes to the leader and the store waits for its own copy.
    this.localReadIndex = settings.transport == org.apache.ratis.rpc.SupportedRpcType.GRPC;
    this.readRetryNs = settings.connectionTimeout.toNanos();
    this.endpoints = group.getPeers().stream().map(Peers::endpoint).toList();
    int attempts = (int) Math.max(1, settings.connectionTimeout.toMillis() / RETRY_SLEEP_MS);
    RetryPolicy retry =
        RetryPolicies.retryUpToMaximumCountWithFixedSleep(
            attempts, TimeDuration.valueOf(RETRY_SLEEP_MS, TimeUnit.MILLISECONDS));
    RaftClient.Builder b =
        RaftClient.newBuilder()
            .setClientId(ClientId.randomId())
            .setRaftGroup(group)
            .setProperties(settings.clientProperties())
            .setParameters(settings.parameters())
            .setRetryPolicy(retry);
    this.client = b.build();
    this.router = new RequestRouter(group, client.getClientRpc(), settings.transport, local);
    long writeTimeoutMs = settings.connectionTimeout.toMillis();
    this.writes =
        new GroupCommitter<>(
            batch -> {
              byte[] entry = encodeBatch.apply(batch);
              StageTrace.mark(StageTrace.Stage.SUBMIT);
              return router
                  .sendWrites(entry, writeTimeoutMs)
                  .thenApply(
                      r -> {
                        StageTrace.mark(StageTrace.Stage.REPLY);
                        StageTrace.index(r.getLogIndex());
                        List<R> results = decodeResults.apply(Wire.body(check(r).getMessage()));
                        written.accumulateAndGet(r.getLogIndex(), Math::max);
                        return results;
                      });
            },
            sizer,
            settings.maxBatch,
            4 << 20,
            settings.maxInFlight,
            MAX_QUEUED_BYTES,
            settings.connectionTimeout.toNanos(),
            max ->
                new io.libkv.store.StoreException(
                    "write refused: "
                        + (max >> 20)
                        + " MiB of this store's writes already wait for the Raft group, which has"
                        + " not taken any within "
                        + settings.connectionTimeout
                        + " (writers outpace the cluster; slow down or wait for the futures)"),
            redrain);
    this.barriers =
        new GroupCommitter<>(
            batch ->
                sendBarrier().thenApply(v -> java.util.Collections.nCopies(batch.size(), true)),
            c -> 1,
            Integer.MAX_VALUE,
            Integer.MAX_VALUE,
            1,
            Integer.MAX_VALUE,
            0,
            null,
            // A local member completes a ReadIndex inside Ratis (under its ReadIndex lock): the
            // next barrier must not enter Ratis from there.
            redrain);
  }

  private CompletableFuture<Void> sendBarrier() {
    StageTrace.mark(StageTrace.Stage.SUBMIT);
    return retrying(
        () ->
            local != null && (localReadIndex || local.leads())
                ? router
                    .queryLocal(Wire.barrier())
                    .thenAccept(
                        r -> {
                          StageTrace.mark(StageTrace.Stage.REPLY);
                          Wire.body(check(r).getMessage());
                        })
                : router
                    .query(Wire.barrier(), true)
                    .thenCompose(
                        r -> {
                          StageTrace.mark(StageTrace.Stage.REPLY);
                          long applied = Wire.barrierIndex(Wire.body(check(r).getMessage()));
                          // Answered by another member: the local copy must reach its state.
                          return awaitLocalApply == null
                              ? CompletableFuture.completedFuture(null)
                              : awaitLocalApply.apply(applied);
                        }),
        System.nanoTime() + readRetryNs);
  }

  /**
   * Retries a read-only call that failed because the group had no ready leader (during an election,
   * or right after start), every {@link #RETRY_SLEEP_MS} until {@code deadlineNs}: unlike writes,
   * Ratis does not retry a ReadIndex that found no leader.
   */
  private <T> CompletableFuture<T> retrying(
      java.util.function.Supplier<CompletableFuture<T>> call, long deadlineNs) {
    CompletableFuture<T> out = new CompletableFuture<>();
    attempt(call, deadlineNs, out);
    return out;
  }

  private <T> void attempt(
      java.util.function.Supplier<CompletableFuture<T>> call,
      long deadlineNs,
      CompletableFuture<T> out) {
    CompletableFuture<T> f;
    try {
      f = call.get();
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete(
        (v, e) -> {
          if (e == null) {
            out.complete(v);
            return;
          }
          Throwable t = RatisErrors.unwrap(e);
          boolean retriable =
              t instanceof IOException
                  && !(t instanceof org.apache.ratis.protocol.exceptions.StateMachineException)
                  && !(t instanceof org.apache.ratis.protocol.exceptions.AlreadyClosedException
                      && closed);
          if (!retriable || closed || System.nanoTime() - deadlineNs > 0) {
            out.completeExceptionally(t);
            return;
          }
          CompletableFuture.delayedExecutor(RETRY_SLEEP_MS, TimeUnit.MILLISECONDS)
              .execute(() -> attempt(call, deadlineNs, out));
        });
  }

  private static RaftClientReply check(RaftClientReply r) {
    if (!r.isSuccess()) {
      throw new java.util.concurrent.CompletionException(
          r.getException() != null
              ? r.getException()
              : new IOException("Raft request failed without an exception: " + r));
    }
    return r;
  }

  /** Appends one command (group-committed with concurrent ones); completes with its result. */
  CompletableFuture<R> write(Q command) {
    return writes.submit(command);
  }

  /**
   * Completes once the local member has applied every write acknowledged through this channel
   * before the call (at once when it has, as it usually has by then): what a read of the local copy
   * without a barrier waits for, so that a store still reads its own writes.
   *
   * <p>A write is acknowledged when the leader has applied it, not when the local member has: a
   * follower learns the new commit index with the leader's next AppendEntries, about as long again
   * as the write itself took. A linearizable read does not need the wait (its ReadIndex is at least
   * every acknowledged write's index, and the local member answers it once applied that far), nor a
   * watch or lock wait (they start from a revision read that way); only a read of the local copy as
   * it is does.
   *
   * @throws IllegalStateException without a local member
   */
  CompletableFuture<Void> ownWritesApplied() {
    if (awaitLocalApply == null) {
      throw new IllegalStateException("no local member");
    }
    return awaitLocalApply.apply(written.get());
  }

  /**
   * Completes once the local member (or, without one, the leader) has applied every write that
   * completed before this call: Raft ReadIndex, coalesced with concurrent callers.
   */
  CompletableFuture<Boolean> barrier() {
    return barriers.submit(Boolean.TRUE);
  }

  /**
   * Sends a read-only query, linearizable (ReadIndex) or, if {@code stale}, to any member as is.
   */
  CompletableFuture<byte[]> query(byte[] request, boolean linearizable) {
    return retrying(
        () ->
            router
                .query(Wire.read(request), linearizable)
                .thenApply(r -> Wire.body(check(r).getMessage())),
        System.nanoTime() + readRetryNs);
  }

  /**
   * Sends a query built by {@link Wire} as a linearizable read; completes with its reply's body.
   */
  CompletableFuture<byte[]> ask(Message m) {
    return retrying(
        () -> router.query(m, true).thenApply(r -> Wire.body(check(r).getMessage())),
        System.nanoTime() + readRetryNs);
  }

  /**
   * Sends several read requests as one read-only query: one ReadIndex (if {@code linearizable}) and
   * one round trip for all of them; one answer per request, in order.
   */
  CompletableFuture<List<Wire.Answer>> queryBatch(List<byte[]> requests, boolean linearizable) {
    Message m = Wire.readBatch(requests);
    StageTrace.mark(StageTrace.Stage.SUBMIT);
    return retrying(
        () ->
            router
                .query(m, linearizable)
                .thenApply(
                    r -> {
                      StageTrace.mark(StageTrace.Stage.REPLY);
                      return Wire.answers(Wire.body(check(r).getMessage()), requests.size());
                    }),
        System.nanoTime() + readRetryNs);
  }

  /** The router of this channel's requests. */
  RequestRouter router() {
    return router;
  }

  /** The blocking admin and client API, for membership changes and tests. */
  RaftClient client() {
    return client;
  }

  /** Writes queued or sent and not yet answered, over every store sharing this channel. */
  int pendingWrites() {
    return writes.pending();
  }

  /** The cluster's endpoints, for error messages. */
  List<String> endpoints() {
    return endpoints;
  }

  /** Changes the group's members (joint consensus; waits for new members to catch up). */
  void setMembers(List<RaftPeer> peers) throws IOException {
    RaftClientReply r = client.admin().setConfiguration(peers);
    check(r);
  }

  @Override
  public void close() {
    closed = true;
    router.close();
    RuntimeException closed = new io.libkv.store.StoreException("the store is closed");
    writes.close(t -> closed);
    barriers.close(t -> closed);
    try {
      client.close();
    } catch (IOException e) {
      LOG.warn("closing Raft client failed", e);
    }
  }
}
