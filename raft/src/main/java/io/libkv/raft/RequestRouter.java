package io.libkv.raft;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientAsynchronousProtocol;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.rpc.CallId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.thirdparty.io.netty.util.internal.ThreadExecutorMap;

/**
 * Takes a store's requests to the Raft group by the shortest way. A write entry goes straight into
 * this process's own Raft member when it leads (no transport and none of its threads), else over
 * the client transport to the member last known to lead. A {@code NotLeaderException} redirects to
 * the leader it names; no leader yet, a closed or unreachable member, a leader not ready or
 * stepping down, or a timeout is retried every {@link #RETRY_SLEEP_MS} until the deadline. A
 * linearizable query from a store on a member goes straight into that member ({@link #queryLocal}),
 * which takes the ReadIndex itself or from the leader.
 *
 * <p>Every attempt of one entry sends the same request (this router's client id and the entry's
 * call id): a leader that already holds the entry (appended by a leader that stepped down before
 * answering) answers the resend from Ratis' retry cache rather than append it twice, as it does for
 * Ratis' own client (a new leader takes requests only once it has applied every earlier entry).
 * Entries leave in call order and a member appends them as they arrive; entries that failed are
 * resent in the order their failures came back. Over Netty, everything this router sends to one
 * member goes over one connection, which Ratis 3.3.0's server handles one request at a time (a
 * write holds the connection's event loop until it commits): that keeps a store's writes in call
 * order, and also means a remote leader takes a store's entries one at a time. Spreading entries
 * over several connections was measured faster and breaks that order (see
 * bench/results/request-path-primed).
 *
 * <p>Nothing is sent over the transport from one of its own event-loop threads (a reply's callback
 * that redirects, retries or sends the next batch): Ratis' Netty transport connects to a member it
 * has no connection to yet by blocking on the connect, which Netty refuses on an event loop, and
 * Ratis 3.3.0 then keeps that member's connection slot failed for good (every later send to it
 * fails with an {@code IllegalStateException}). Such sends move to this router's send thread; a
 * send that fails with anything but an {@link IOException} resets the member's connection and is
 * retried like an unreachable member.
 *
 * <p>Thread-safe. Replies complete on the thread that learns them: the local member's apply thread
 * for an entry it took, a transport thread otherwise.
 */
final class RequestRouter {
  static final long RETRY_SLEEP_MS = 100;

  /** This process's member, for direct submission. */
  interface Local {
    RaftPeerId id();

    /** Whether the member leads and is ready to take entries. */
    boolean leads();

    /** The member's Raft server division, which takes client requests directly. */
    RaftClientAsynchronousProtocol server() throws IOException;

    /**
     * Submits a read request to the member: a linearizable one that the member leads waits for a
     * leadership check first ({@link ReadIndexRounds}).
     */
    CompletableFuture<RaftClientReply> read(RaftClientRequest request) throws IOException;

    /**
     * The leader the member knows of, with its address from the member's configuration, or {@code
     * null}.
     */
    RaftPeer leader();
  }

  private final ClientId clientId = ClientId.randomId();
  // The call ids of the entries sent and not yet answered (or given up on): the floor is the least.
  private final java.util.concurrent.ConcurrentSkipListSet<Long> awaited =
      new java.util.concurrent.ConcurrentSkipListSet<>();
  private final AtomicLong rotation = new AtomicLong();
  private final RaftGroup group;
  // The members to try in turn while no leader is known: the group's, then those the members
  // report (a member added since this router was made; see refreshPeers).
  private volatile List<RaftPeerId> peers;
  private final RaftClientRpc rpc;
  private final boolean unordered;
  private final Local local;
  private volatile RaftPeerId leader;
  private volatile boolean closed;
  // Sends that would otherwise start on a transport event loop; created on first use.
  private volatile ExecutorService sendThread;
  // Attempts of write entries: into the local member, over the transport; redirects followed.
  private final LongAdder localAttempts = new LongAdder();
  private final LongAdder remoteAttempts = new LongAdder();
  private final LongAdder redirects = new LongAdder();

  /**
   * @param rpc the client transport (a Ratis client's), for members other than {@code local}
   * @param local this process's member, or {@code null} for a client-only store
   */
  RequestRouter(RaftGroup group, RaftClientRpc rpc, SupportedRpcType transport, Local local) {
    this.group = group;
    this.peers = group.getPeers().stream().map(RaftPeer::getId).toList();
    this.rpc = rpc;
    this.unordered = transport == SupportedRpcType.GRPC;
    this.local = local;
  }

  /**
   * Sends one write entry; completes with the successful reply, or fails with the last attempt's
   * failure once {@code timeoutMs} have passed (a {@link StateMachineException}, the state
   * machine's refusal, at once).
   */
  CompletableFuture<RaftClientReply> send(Message entry, long timeoutMs) {
    long callId = nextCall();
    return send(entry, callId, timeoutMs);
  }

  /**
   * Sends an encoded command batch as one write entry ({@link Wire#writes(byte[], long)}) carrying
   * this router's floor: the lowest call id it still awaits, this entry's included. A member
   * applies an entry whose call id is below a floor it has seen from this router's client id as a
   * late copy (not at all); see {@link io.libkv.storage.engine.ClientCall}. Otherwise as {@link
   * #send(Message, long)}.
   */
  CompletableFuture<RaftClientReply> sendWrites(byte[] batch, long timeoutMs) {
    long callId = nextCall();
    return send(Wire.writes(batch, awaited.first()), callId, timeoutMs);
  }

  /** A new call id, awaited until its send completes. */
  private long nextCall() {
    // Ratis' JVM-wide call ids: the transport's reply map is shared with the Ratis client whose
    // transport this is, and keyed by call id. They grow, so this router's grow in send order.
    synchronized (awaited) {
      long callId = CallId.getAndIncrement();
      awaited.add(callId);
      return callId;
    }
  }

  private CompletableFuture<RaftClientReply> send(Message entry, long callId, long timeoutMs) {
    CompletableFuture<RaftClientReply> out = new CompletableFuture<>();
    out.whenComplete((r, e) -> awaited.remove(callId));
    attempt(entry, callId, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs), out);
    return out;
  }

  /**
   * Sends a linearizable read-only query straight to this process's member, which takes the
   * ReadIndex itself when it leads and asks the leader for it otherwise.
   *
   * @throws IllegalStateException if there is no local member
   */
  CompletableFuture<RaftClientReply> queryLocal(Message query) {
    if (local == null) {
      throw new IllegalStateException("no local member");
    }
    try {
      return local.read(
          RaftClientRequest.newBuilder()
              .setClientId(clientId)
              .setServerId(local.id())
              .setGroupId(group.getGroupId())
              .setCallId(CallId.getAndIncrement())
              .setMessage(query)
              .setType(RaftClientRequest.readRequestType())
              .build());
    } catch (IOException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  void close() {
    closed = true;
    ExecutorService t;
    synchronized (this) {
      t = sendThread;
    }
    if (t != null) {
      t.shutdown();
    }
  }

  /** The member this router sends to first, or {@code null} while it knows none. */
  RaftPeerId leader() {
    return leader;
  }

  /** How many write attempts went into the local member. */
  long localAttempts() {
    return localAttempts.sum();
  }

  /** How many write attempts went over the transport. */
  long remoteAttempts() {
    return remoteAttempts.sum();
  }

  /** How many {@code NotLeaderException} redirects were followed. */
  long redirects() {
    return redirects.sum();
  }

  private void attempt(
      Message entry, long callId, long deadlineNs, CompletableFuture<RaftClientReply> out) {
    CompletableFuture<RaftClientReply> f;
    RaftPeerId target;
    try {
      if (local != null && local.leads()) {
        target = local.id();
        localAttempts.increment();
        f = local.server().submitClientRequestAsync(request(entry, callId, target));
      } else {
        target = target();
        remoteAttempts.increment();
        f = remote(request(entry, callId, target));
      }
    } catch (IOException | RuntimeException e) {
      target = null;
      f = CompletableFuture.failedFuture(e);
    }
    RaftPeerId sentTo = target;
    f.whenComplete(
        (reply, error) -> {
          Throwable e = failure(sentTo, reply, error);
          if (e == null) {
            leader = sentTo;
            out.complete(reply);
            return;
          }
          boolean redirected = learn(sentTo, e);
          if (!retriable(e) || closed || System.nanoTime() - deadlineNs > 0) {
            out.completeExceptionally(e);
            return;
          }
          if (redirected) {
            redirects.increment();
            attempt(entry, callId, deadlineNs, out);
          } else {
            CompletableFuture.delayedExecutor(RETRY_SLEEP_MS, TimeUnit.MILLISECONDS)
                .execute(() -> attempt(entry, callId, deadlineNs, out));
          }
        });
  }

  /**
   * Learns from a failed attempt sent to {@code sentTo}: renews a transport stream the failure
   * killed, and moves the leader this router believes in. Returns whether the failure named another
   * member as the leader.
   */
  private boolean learn(RaftPeerId sentTo, Throwable e) {
    if (isRemote(sentTo)) {
      // As Ratis' own client does: a stream that carried a NotLeader, LeaderNotReady or closed
      // reply is dead; a fresh connection is made for the next attempt. So is one that failed
      // with something other than an I/O error (see the class comment).
      rpc.handleException(
          sentTo,
          e,
          e instanceof NotLeaderException
              || e instanceof LeaderNotReadyException
              || e instanceof AlreadyClosedException
              || e instanceof TransportFailure);
    }
    if (e instanceof NotLeaderException nle) {
      refreshPeers(nle.getPeers());
      RaftPeer suggested = nle.getSuggestedLeader();
      RaftPeerId next = suggested == null ? null : suggested.getId();
      boolean redirected = next != null && !next.equals(sentTo);
      leader = redirected ? next : null;
      return redirected;
    }
    if (!(e instanceof StateMachineException) && sentTo != null && sentTo.equals(leader)) {
      leader = null; // unreachable, not ready or unable to serve: look elsewhere next time
    }
    return false;
  }

  /**
   * Sends a read-only query of a client-only store, once, to the member this router believes leads
   * (where a linearizable read takes its ReadIndex in one hop, and a stale one reads the leader's
   * state); the caller retries a failure. Reads and writes of one store so share what they learn of
   * the leader.
   */
  CompletableFuture<RaftClientReply> query(Message query, boolean linearizable) {
    if (linearizable && !unordered && leader == null && (local == null || local.leader() == null)) {
      // Ratis 3.3.0's Netty transport cannot carry a follower's ReadIndex request to the leader:
      // a follower given a linearizable read never answers it. Find the leader first, with the
      // same query as a read that only the leader serves (a follower answers NotLeader at once).
      return send(query, false, target())
          .handle((reply, error) -> error)
          .thenCompose(
              error -> {
                RaftPeerId found = leader;
                return found != null
                    ? send(query, true, found)
                    : CompletableFuture.failedFuture(
                        error != null ? error : new IOException("no leader found"));
              });
    }
    return send(query, linearizable, target());
  }

  private CompletableFuture<RaftClientReply> send(
      Message query, boolean linearizable, RaftPeerId target) {
    RaftClientRequest r =
        RaftClientRequest.newBuilder()
            .setClientId(clientId)
            .setServerId(target)
            .setGroupId(group.getGroupId())
            .setCallId(CallId.getAndIncrement())
            .setMessage(query)
            .setType(RaftClientRequest.readRequestType(!linearizable))
            .build();
    return remote(r)
        .handle(
            (reply, error) -> {
              Throwable e = failure(target, reply, error);
              if (e == null) {
                // Reads stay with a member that answered them until it fails one: a store that
                // only reads (a watcher) would otherwise try the members in turn. A member that
                // served a read only the leader serves is the leader.
                if (leader == null) {
                  leader = target;
                }
                return reply;
              }
              learn(target, e);
              throw e instanceof CompletionException ce ? ce : new CompletionException(e);
            });
  }

  /**
   * Sends over the transport; from a transport event-loop thread, on this router's send thread
   * instead (see the class comment).
   */
  private CompletableFuture<RaftClientReply> remote(RaftClientRequest r) {
    if (ThreadExecutorMap.currentExecutor() == null) {
      return transport(r);
    }
    CompletableFuture<RaftClientReply> out = new CompletableFuture<>();
    try {
      sendThread()
          .execute(
              () ->
                  transport(r)
                      .whenComplete(
                          (reply, e) -> {
                            if (e != null) {
                              out.completeExceptionally(e);
                            } else {
                              out.complete(reply);
                            }
                          }));
    } catch (RejectedExecutionException e) {
      out.completeExceptionally(new AlreadyClosedException("the Raft request router is closed"));
    }
    return out;
  }

  private CompletableFuture<RaftClientReply> transport(RaftClientRequest r) {
    try {
      return unordered ? rpc.sendRequestAsyncUnordered(r) : rpc.sendRequestAsync(r);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private ExecutorService sendThread() {
    ExecutorService t = sendThread;
    if (t == null) {
      synchronized (this) {
        t = sendThread;
        if (t == null) {
          if (closed) {
            throw new RejectedExecutionException("closed");
          }
          t =
              Executors.newSingleThreadExecutor(
                  run -> {
                    Thread th = new Thread(run, "libkv-send-" + clientId);
                    th.setDaemon(true);
                    return th;
                  });
          sendThread = t;
        }
      }
    }
    return t;
  }

  /**
   * Takes the configuration a member reported (with a {@code NotLeaderException}), as Ratis' own
   * client does: the transport learns the addresses of members added since this router was made (it
   * knows only the group's otherwise, and fails a send to any other member), and the members tried
   * in turn become the reported ones.
   */
  private void refreshPeers(java.util.Collection<RaftPeer> reported) {
    if (reported == null || reported.isEmpty()) {
      return;
    }
    rpc.addRaftPeers(reported);
    peers = reported.stream().map(RaftPeer::getId).toList();
  }

  private boolean isRemote(RaftPeerId target) {
    return target != null && (local == null || !target.equals(local.id()));
  }

  /**
   * What failed in an attempt sent to {@code target}, or {@code null} if it succeeded. A remote
   * failure that is not an {@link IOException} (a broken connection slot: see the class comment)
   * becomes a retriable {@link TransportFailure}.
   */
  private Throwable failure(RaftPeerId target, RaftClientReply reply, Throwable error) {
    Throwable e = error != null ? RatisErrors.unwrap(error) : failure(reply);
    if (e != null && !(e instanceof IOException) && isRemote(target)) {
      return new TransportFailure(target, e);
    }
    return e;
  }

  /** A send to another member failed outside the transport's I/O (its connection is reset). */
  static final class TransportFailure extends IOException {
    private static final long serialVersionUID = 1L;

    TransportFailure(RaftPeerId target, Throwable cause) {
      super("sending to member " + target + " failed: " + cause, cause);
    }
  }

  /** The member to try: the last known leader, the local member's idea of it, or the next peer. */
  private RaftPeerId target() {
    RaftPeerId l = leader;
    if (l != null) {
      return l;
    }
    if (local != null) {
      RaftPeer known = local.leader();
      if (known != null) {
        if (!peers.contains(known.getId())) {
          // A member added since this router was made: the transport needs its address.
          rpc.addRaftPeers(List.of(known));
        }
        return known.getId();
      }
    }
    // Round robin over the peers while no leader is known.
    List<RaftPeerId> p = peers;
    return p.get((int) Math.floorMod(rotation.getAndIncrement(), (long) p.size()));
  }

  private RaftClientRequest request(Message entry, long callId, RaftPeerId server) {
    return RaftClientRequest.newBuilder()
        .setClientId(clientId)
        .setServerId(server)
        .setGroupId(group.getGroupId())
        .setCallId(callId)
        .setMessage(entry)
        .setType(RaftClientRequest.writeRequestType())
        .build();
  }

  private static Throwable failure(RaftClientReply reply) {
    if (reply == null) {
      return new IOException("no reply");
    }
    if (reply.isSuccess()) {
      return null;
    }
    return reply.getException() != null
        ? reply.getException()
        : new IOException("Raft request failed without an exception: " + reply);
  }

  /** Whether another attempt of the same request may succeed. */
  private boolean retriable(Throwable e) {
    if (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    return e instanceof IOException
        && !(e instanceof StateMachineException)
        && !(e instanceof AlreadyClosedException && closed);
  }
}
