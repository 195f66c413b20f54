package io.libkv.raft;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftClientRequestProto;
import org.apache.ratis.proto.RaftProtos.ReadIndexReplyProto;
import org.apache.ratis.proto.RaftProtos.ReadIndexRequestProto;
import org.apache.ratis.protocol.RaftClientAsynchronousProtocol;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.ReadIndexException;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;
import org.apache.ratis.server.protocol.TermIndex;

/**
 * The leadership check of a linearizable read (Raft's ReadIndex): a read is answered only once a
 * majority of the voting members has acknowledged an AppendEntries (a heartbeat, or entries) that
 * the leader sent after the read arrived, in its current leadership.
 *
 * <p>Ratis 3.3.0 does this check itself, but skips it when the read's index is at or below the last
 * commit index a heartbeat round acknowledged ({@code ReadIndexHeartbeats}: "the readIndex is
 * already acknowledged before"), and lets a read join a round begun before it arrived. A leader
 * that has been replaced without knowing it yet (cut off, or paused and resumed) keeps its commit
 * index, so it would answer reads at once from a state that misses writes the new leader has
 * acknowledged. Members therefore switch Ratis' check off ({@code
 * raft.server.read.leader.heartbeat-check.enabled=false}, see {@link RaftSettings}) and confirm
 * here instead, on the leader: before a linearizable read enters Ratis ({@link #submit}: a store's
 * read of its own member, and a client's read arriving over the transport) and before a follower's
 * ReadIndex request is answered ({@link #confirmReadIndex}).
 *
 * <p>How: the member's transport factory ({@link VoteFence}) hands every log appender it creates a
 * leader state that also reports each AppendEntries reply here. A round records, per follower, the
 * appender's next call id, triggers a heartbeat on each, and completes when the successful replies
 * to calls from that id on, plus the leader itself, form a majority of the current configuration
 * (and of the previous one during a membership change). A round that no majority confirms within
 * the timeout fails with a {@link ReadIndexException}, which readers retry (by then the member has
 * stepped down, or leads again). Rounds cost no log entry and no fsync: concurrent reads share the
 * heartbeats they trigger.
 *
 * <p>Thread-safe: replies arrive on the appenders' threads, rounds start on Ratis' threads.
 */
final class ReadIndexRounds {
  /** The {@link org.apache.ratis.conf.Parameters} key under which a member passes its rounds. */
  static final String PARAMETER = "libkv.readIndexRounds";

  /** The appenders of one leadership (one Ratis leader state), by follower. */
  private static final class Leadership {
    final Object state;
    final Map<RaftPeerId, LogAppender> appenders = new ConcurrentHashMap<>();

    Leadership(Object state) {
      this.state = state;
    }
  }

  /**
   * What a round waits for from one follower: a successful reply of this appender, from this id.
   */
  private record Call(LogAppender appender, long fromCallId) {}

  /** One confirmation: the calls it waits for, and who has answered one of them. */
  private static final class Round {
    final Leadership leadership;
    final Map<RaftPeerId, Call> calls;
    final Set<RaftPeerId> acknowledged = ConcurrentHashMap.newKeySet();
    final List<Collection<RaftPeerId>> configurations;
    final RaftPeerId self;
    final CompletableFuture<Void> done = new CompletableFuture<>();

    Round(
        Leadership leadership,
        Map<RaftPeerId, Call> calls,
        List<Collection<RaftPeerId>> configurations,
        RaftPeerId self) {
      this.leadership = leadership;
      this.calls = calls;
      this.configurations = configurations;
      this.self = self;
    }

    /** Whether the leader and the followers that answered are a majority of every configuration. */
    boolean confirmed() {
      for (Collection<RaftPeerId> voters : configurations) {
        int yes = 0;
        for (RaftPeerId id : voters) {
          if (id.equals(self) || acknowledged.contains(id)) {
            yes++;
          }
        }
        if (2 * yes <= voters.size()) {
          return false;
        }
      }
      return true;
    }
  }

  private final long timeoutMs;
  private final ConcurrentLinkedQueue<Round> rounds = new ConcurrentLinkedQueue<>();
  private volatile Leadership current;

  /**
   * @param timeoutMs how long a round waits for a majority before it fails (a member that cannot
   *     reach a majority for about an election timeout steps down)
   */
  ReadIndexRounds(long timeoutMs) {
    this.timeoutMs = timeoutMs;
  }

  /**
   * Returns the leader state to give a new log appender in place of {@code state}: the same, also
   * reporting each AppendEntries reply to these rounds.
   */
  LeaderState observe(LeaderState state) {
    return new Reporting(state);
  }

  /** Ratis' leader state, unchanged, with each AppendEntries reply also counted for the rounds. */
  private final class Reporting implements LeaderState {
    private final LeaderState state;

    Reporting(LeaderState state) {
      this.state = state;
    }

    @Override
    public void onAppendEntriesReply(LogAppender appender, AppendEntriesReplyProto reply) {
      state.onAppendEntriesReply(appender, reply);
      onReply(appender, reply);
    }

    @Override
    public void restart(LogAppender appender) {
      state.restart(appender);
    }

    @Override
    public AppendEntriesRequestProto newAppendEntriesRequestProto(
        FollowerInfo follower, List<LogEntryProto> entries, TermIndex previous, long callId) {
      return state.newAppendEntriesRequestProto(follower, entries, previous, callId);
    }

    @Override
    public void checkHealth(FollowerInfo follower) {
      state.checkHealth(follower);
    }

    @Override
    public boolean onFollowerTerm(FollowerInfo follower, long followerTerm) {
      return state.onFollowerTerm(follower, followerTerm);
    }

    @Override
    public void onFollowerCommitIndex(FollowerInfo follower, long commitIndex) {
      state.onFollowerCommitIndex(follower, commitIndex);
    }

    @Override
    public void onFollowerSuccessAppendEntries(FollowerInfo follower) {
      state.onFollowerSuccessAppendEntries(follower);
    }

    @Override
    public boolean isFollowerBootstrapping(FollowerInfo follower) {
      return state.isFollowerBootstrapping(follower);
    }
  }

  /**
   * Registers an appender that Ratis made for {@code state} (the leader state it was given before
   * {@link #observe}). A new leader state is a new leadership: rounds of the previous one fail.
   */
  void started(LeaderState state, LogAppender appender) {
    Leadership l = current;
    if (l == null || l.state != state) {
      synchronized (this) {
        l = current;
        if (l == null || l.state != state) {
          l = new Leadership(state);
          current = l;
        }
      }
      failOthers(l);
    }
    l.appenders.put(appender.getFollowerId(), appender);
  }

  /**
   * Completes once {@code division}, its leader, has confirmed that it still leads by a round begun
   * now; fails with a {@link ReadIndexException} if it does not lead or no majority confirms it in
   * time.
   */
  CompletableFuture<Void> confirm(RaftServer.Division division) {
    if (!division.getInfo().isLeader()) {
      return CompletableFuture.failedFuture(
          new ReadIndexException(division.getId() + " is not the leader: read not confirmed"));
    }
    RaftConfiguration conf = division.getRaftConf();
    List<Collection<RaftPeerId>> configurations = new ArrayList<>(2);
    configurations.add(ids(conf.getCurrentPeers()));
    if (!conf.getPreviousPeers().isEmpty()) {
      configurations.add(ids(conf.getPreviousPeers()));
    }
    Leadership l = current;
    Map<RaftPeerId, Call> calls = new HashMap<>();
    if (l != null) {
      l.appenders.forEach((id, a) -> calls.put(id, new Call(a, a.getCallId())));
    }
    Round round = new Round(l, calls, configurations, division.getId());
    if (round.confirmed()) {
      return CompletableFuture.completedFuture(null); // a group of one
    }
    rounds.add(round);
    for (Call c : calls.values()) {
      c.appender().triggerHeartbeat();
    }
    // A reply may have come between the call ids read above and the round's registration: it
    // answers a call made before the round, so it does not count; only later replies do.
    return round
        .done
        .orTimeout(timeoutMs, TimeUnit.MILLISECONDS)
        .handle(
            (v, e) -> {
              rounds.remove(round);
              if (e instanceof TimeoutException) {
                throw new CompletionException(
                    new ReadIndexException(
                        division.getId()
                            + ": leadership not confirmed by a majority within "
                            + timeoutMs
                            + " ms; the read is retried"));
              }
              if (e != null) {
                throw new CompletionException(e);
              }
              return null;
            });
  }

  /**
   * Submits {@code request} to {@code server}: a linearizable read that this member would serve as
   * leader enters Ratis only once a round begun now has confirmed the leadership (Ratis then reads
   * at its commit index, at least the one of the read's arrival, so the answer holds every write
   * acknowledged before the read began). Other requests, and reads of a member that does not lead
   * (it asks the leader for a ReadIndex, confirmed there by {@link #confirmReadIndex}), go to Ratis
   * as they are.
   */
  CompletableFuture<RaftClientReply> submit(RaftServer server, RaftClientRequest request)
      throws IOException {
    if (!needsConfirmation(request)) {
      return server.submitClientRequestAsync(request);
    }
    RaftServer.Division division;
    try {
      division = server.getDivision(request.getRaftGroupId());
    } catch (IOException e) {
      return server.submitClientRequestAsync(request); // Ratis answers with its own error
    }
    return submit(division, server, request);
  }

  /** As {@link #submit(RaftServer, RaftClientRequest)}, into {@code target}, {@code division}'s. */
  CompletableFuture<RaftClientReply> submit(
      RaftServer.Division division,
      RaftClientAsynchronousProtocol target,
      RaftClientRequest request)
      throws IOException {
    if (!needsConfirmation(request) || !division.getInfo().isLeader()) {
      return target.submitClientRequestAsync(request);
    }
    return confirm(division)
        .thenCompose(
            v -> {
              try {
                return target.submitClientRequestAsync(request);
              } catch (IOException e) {
                return CompletableFuture.failedFuture(e);
              }
            });
  }

  /**
   * The leader's answer to a follower's ReadIndex request, {@code reply}, once a round begun now
   * has confirmed the leadership; a failed round turns it into an unsuccessful reply (the
   * follower's read fails and is retried).
   */
  CompletableFuture<ReadIndexReplyProto> confirmReadIndex(
      RaftServer server, ReadIndexRequestProto request, ReadIndexReplyProto reply) {
    if (!reply.getServerReply().getSuccess()) {
      return CompletableFuture.completedFuture(reply);
    }
    RaftServer.Division division;
    try {
      division =
          server.getDivision(
              RaftGroupId.valueOf(request.getServerRequest().getRaftGroupId().getId()));
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    return confirm(division)
        .handle(
            (v, e) ->
                e == null
                    ? reply
                    : reply.toBuilder()
                        .setServerReply(reply.getServerReply().toBuilder().setSuccess(false))
                        .build());
  }

  /** The log appenders of the current leadership, one per follower (empty before any). */
  Collection<LogAppender> appenders() {
    Leadership l = current;
    return l == null ? List.of() : l.appenders.values();
  }

  private static boolean needsConfirmation(RaftClientRequest request) {
    return request.is(RaftClientRequestProto.TypeCase.READ)
        && !request.getType().getRead().getPreferNonLinearizable();
  }

  /** How many rounds wait for replies (for tests). */
  int waiting() {
    return rounds.size();
  }

  private void onReply(LogAppender appender, AppendEntriesReplyProto reply) {
    if (!reply.getServerReply().getSuccess() || rounds.isEmpty()) {
      return;
    }
    RaftPeerId follower = appender.getFollowerId();
    long callId = reply.getServerReply().getCallId();
    for (Round r : rounds) {
      Call c = r.calls.get(follower);
      if (c == null
          || c.appender() != appender
          || appender.getCallIdComparator().compare(callId, c.fromCallId()) < 0) {
        continue;
      }
      if (r.acknowledged.add(follower) && r.confirmed()) {
        r.done.complete(null);
      }
    }
  }

  private void failOthers(Leadership now) {
    for (Round r : rounds) {
      if (r.leadership != now) {
        r.done.completeExceptionally(
            new ReadIndexException("leadership changed before the read was confirmed"));
      }
    }
  }

  private static Collection<RaftPeerId> ids(Collection<RaftPeer> peers) {
    List<RaftPeerId> ids = new ArrayList<>(peers.size());
    for (RaftPeer p : peers) {
      ids.add(p.getId());
    }
    return ids;
  }
}
