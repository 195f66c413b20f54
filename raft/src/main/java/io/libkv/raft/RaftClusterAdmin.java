package io.libkv.raft;

import io.libkv.store.NotReachableException;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.protocol.exceptions.SetConfigurationException;
import org.apache.ratis.protocol.exceptions.TransferLeadershipException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.CallId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.util.TimeDuration;

/**
 * {@link ClusterAdmin} over Ratis: asks each member for its status with a stale read (minimum index
 * -1, so that a member that joined and has committed nothing yet answers too) addressed to it,
 * which that member's state machine answers with its report ({@link MemberReportCodec}); changes
 * the configuration with Ratis' compare-and-set configuration change against the leader's
 * configuration, and moves the leadership with Ratis' transfer.
 */
final class RaftClusterAdmin implements ClusterAdmin {
  private static final long RETRY_SLEEP_MS = 100;
  private static final long POLL_MS = 50;

  private final RaftSettings settings;
  private final RaftGroupId groupId;
  private final ClientId clientId = ClientId.randomId();
  private final RaftClient client;
  private final RaftClientRpc rpc;
  private final boolean unordered;
  private final long askMs;
  private final ExecutorService senders;
  // Every member this handle has heard of, by id: the endpoints it was given, then the members of
  // the configurations it was told.
  private final Map<String, RaftPeer> known = new LinkedHashMap<>();

  RaftClusterAdmin(List<RaftPeer> peers, RaftSettings settings) {
    this.settings = settings;
    this.groupId = Peers.groupId(settings.group);
    peers.forEach(p -> known.put(p.getId().toString(), p));
    this.unordered = settings.transport == SupportedRpcType.GRPC;
    this.askMs = Math.max(1, Math.min(settings.requestTimeoutMs, timeoutMs()));
    this.client = newClient(peers, null);
    this.rpc = client.getClientRpc();
    this.senders =
        Executors.newCachedThreadPool(
            task -> {
              Thread t = new Thread(task, "libkv-admin-" + clientId);
              t.setDaemon(true);
              return t;
            });
  }

  // ------------------------------------------------------------------------------- the API

  @Override
  public List<MemberStatus> members() {
    View v = survey();
    if (v.answers.values().stream().allMatch(a -> a.report == null)) {
      Throwable first = v.answers.values().iterator().next().failure;
      throw RatisErrors.map(
          first,
          endpoints(v.answers.values().stream().map(Answer::peer).toList()),
          "status",
          probe());
    }
    List<MemberStatus> out = new ArrayList<>();
    if (v.conf == null) {
      v.answers.values().forEach(a -> out.add(a.status(askMs)));
      return out;
    }
    Stream.concat(v.voters().stream(), v.learners().stream())
        .forEach(p -> out.add(v.answers.get(p.getId().toString()).status(askMs)));
    return out;
  }

  @Override
  public void addMember(String endpoint) {
    add(endpoint, false);
  }

  @Override
  public void addLearner(String endpoint) {
    add(endpoint, true);
  }

  private void add(String endpoint, boolean learner) {
    RaftPeer p = Peers.parse(endpoint);
    String id = p.getId().toString();
    String what = "adding " + (learner ? "learner " : "member ") + endpoint;
    View v = surveyWithLeader(what);
    for (RaftPeer m : v.all()) {
      if (m.getId().equals(p.getId())) {
        throw new IllegalArgumentException(
            what + ": " + id + " is already " + v.describe(id) + " (" + Peers.endpoint(m) + ")");
      }
      if (m.getAddress().equals(p.getAddress())) {
        throw new IllegalArgumentException(
            what + ": address " + p.getAddress() + " is member " + m.getId() + "'s");
      }
    }
    Answer a = join(ask(p));
    // A member started with --join answers nothing until a leader has reached it (Ratis keeps it
    // STARTING): that answer says it runs and waits to be added.
    boolean waiting = a.failure instanceof ServerNotReadyException;
    if (a.report == null && !waiting) {
      throw new NotReachableException(
          List.of(endpoint),
          what
              + ": the new member does not answer ("
              + reason(a.failure)
              + "); start it first, empty, with --join (EmbeddedNode.join) and the same group"
              + " and TLS settings",
          a.failure);
    }
    if (a.report != null && !a.report.status().id().equals(id)) {
      throw new IllegalArgumentException(
          what + ": " + p.getAddress() + " is member " + a.report.status().id() + ", not " + id);
    }
    List<RaftPeer> voters = new ArrayList<>(v.voters());
    List<RaftPeer> learners = new ArrayList<>(v.learners());
    (learner ? learners : voters).add(p);
    setConfiguration(v, voters, learners, what);
  }

  @Override
  public void promote(String id) {
    String what = "promoting " + id;
    View v = surveyWithLeader(what);
    RaftPeer p = v.learner(id);
    if (p == null) {
      throw new IllegalArgumentException(
          what + ": " + id + " is " + v.describe(id) + ", not a learner; " + v.membersText());
    }
    List<RaftPeer> voters = new ArrayList<>(v.voters());
    voters.add(p);
    List<RaftPeer> learners = new ArrayList<>(v.learners());
    learners.remove(p);
    setConfiguration(v, voters, learners, what);
  }

  @Override
  public void removeMember(String id) {
    String what = "removing " + id;
    View v = surveyWithLeader(what);
    RaftPeer voter = v.voter(id);
    RaftPeer learner = v.learner(id);
    if (voter == null && learner == null) {
      throw new IllegalArgumentException(what + ": no member " + id + "; " + v.membersText());
    }
    if (voter != null && v.voters().size() == 1) {
      throw new IllegalArgumentException(
          what + ": " + id + " is the last voting member; a cluster needs at least one");
    }
    List<RaftPeer> voters = new ArrayList<>(v.voters());
    voters.remove(voter);
    List<RaftPeer> learners = new ArrayList<>(v.learners());
    learners.remove(learner);
    setConfiguration(v, voters, learners, what);
  }

  @Override
  public void transferLeadership(String id) {
    String what = "moving the leadership to " + id;
    View v = surveyWithLeader(what);
    RaftPeer target = v.voter(id);
    if (target == null) {
      throw new IllegalArgumentException(
          what
              + ": "
              + id
              + " is "
              + v.describe(id)
              + (v.learner(id) != null ? " (promote it first)" : "")
              + "; only a voting member can lead; "
              + v.membersText());
    }
    if (!target.getId().equals(v.leader)) {
      long transferMs = Math.max(1000, timeoutMs() / 2);
      call(
          v,
          what,
          c -> c.admin().transferLeadership(target.getId(), transferMs),
          () -> id.equals(leaderId()));
    }
    // Ratis answers once the target won its election; wait until it says so itself.
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs());
    while (true) {
      Answer a = join(ask(target));
      if (a.report != null && a.report.status().role() == MemberStatus.Role.LEADER) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new StoreException(
            what
                + ": "
                + id
                + " does not lead "
                + timeoutMs()
                + " ms after the transfer (it reports "
                + (a.report == null ? reason(a.failure) : a.report.status().role())
                + ")");
      }
      pause(POLL_MS);
    }
  }

  // ------------------------------------------------------------------------------ access rules

  @Override
  public List<AccessRule> accessRules() {
    return readRules().rules().rules();
  }

  @Override
  public void grant(String identity, String keyPrefix, java.util.Set<Permission> permissions) {
    AccessRule rule = new AccessRule(identity, keyPrefix, permissions);
    changeRules(r -> r.grant(rule), "granting " + rule);
  }

  @Override
  public void revoke(String identity, String keyPrefix, java.util.Set<Permission> permissions) {
    AccessRule asked = new AccessRule(identity, keyPrefix, permissions); // checks the arguments
    changeRules(
        r -> r.revoke(asked.identity(), asked.keyPrefix(), asked.permissions()),
        "revoking " + asked);
  }

  /** The rules in force and the revision that set them. */
  private record StoredRules(long revision, AccessRules rules) {}

  private StoredRules readRules() {
    String what = "reading the access rules";
    byte[] body = Wire.body(send(Wire.accessRulesQuery(), true, what));
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(body);
    if (b.remaining() < 8) {
      throw new StoreException(what + ": the leader's answer has " + body.length + " bytes");
    }
    long revision = b.getLong();
    byte[] rules = new byte[b.remaining()];
    b.get(rules);
    try {
      return new StoredRules(revision, AccessRules.decode(rules));
    } catch (MalformedEntryException e) {
      throw new StoreException(what + ": " + e.getMessage() + " (a newer member wrote them?)");
    }
  }

  /**
   * Reads the rules, changes them and writes them back if no other change came in between (else
   * reads again), so that two administrators' changes do not undo each other.
   */
  private void changeRules(java.util.function.UnaryOperator<AccessRules> change, String what) {
    for (int attempt = 0; attempt < 10; attempt++) {
      StoredRules now = readRules();
      AccessRules next = change.apply(now.rules());
      if (next.equals(now.rules())) {
        return;
      }
      byte[] batch =
          io.libkv.storage.engine.CommandCodec.encodeCommand(
              new io.libkv.storage.engine.Command.SetAccessRules(next.encode(), now.revision()));
      io.libkv.storage.engine.CommandResult r =
          io.libkv.storage.engine.CommandCodec.decodeResults(
                  Wire.body(send(Wire.accessRules(batch), false, what)))
              .get(0);
      if (r instanceof io.libkv.storage.engine.CommandResult.Written) {
        return;
      }
      if (!(r instanceof io.libkv.storage.engine.CommandResult.KeyModified)) {
        throw r.toException();
      }
      // another change came first: read again
    }
    throw new StoreException(what + ": the access rules changed under every one of 10 attempts");
  }

  private org.apache.ratis.protocol.Message send(
      org.apache.ratis.protocol.Message m, boolean readOnly, String what) {
    List<String> eps = endpoints(knownPeers());
    RaftClientReply reply;
    try {
      reply = readOnly ? client.io().sendReadOnly(m) : client.io().send(m);
    } catch (IOException e) {
      throw RatisErrors.map(e, eps, what, probe());
    }
    if (!reply.isSuccess()) {
      throw RatisErrors.map(reply.getException(), eps, what, probe());
    }
    return reply.getMessage();
  }

  @Override
  public void close() {
    senders.shutdownNow();
    try {
      client.close();
    } catch (IOException e) {
      // nothing to release any more
    }
  }

  // ------------------------------------------------------------------------ configuration

  private void setConfiguration(
      View v, List<RaftPeer> voters, List<RaftPeer> learners, String what) {
    SetConfigurationRequest.Arguments args =
        SetConfigurationRequest.Arguments.newBuilder()
            .setServersInNewConf(voters)
            .setListenersInNewConf(learners)
            .setServersInCurrentConf(v.voters())
            .setListenersInCurrentConf(v.learners())
            .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
            .build();
    call(v, what, c -> c.admin().setConfiguration(args), () -> hasConfiguration(voters, learners));
  }

  /** Whether the leader's configuration is {@code voters} and {@code learners} now. */
  private boolean hasConfiguration(List<RaftPeer> voters, List<RaftPeer> learners) {
    View now = survey();
    return now.conf != null
        && ids(now.voters()).equals(ids(voters))
        && ids(now.learners()).equals(ids(learners));
  }

  private static List<String> ids(List<RaftPeer> peers) {
    return peers.stream().map(p -> p.getId().toString()).sorted().toList();
  }

  /** A blocking admin request through a client that starts at the leader of {@code v}. */
  private interface AdminCall {
    RaftClientReply send(RaftClient client) throws IOException;
  }

  /**
   * Sends {@code request} to the leader of {@code v} (redirected and retried by Ratis' client until
   * the connection timeout). A refusal after which {@code done} holds counts as success: a retry of
   * a change that went through is refused because the configuration moved on.
   */
  private void call(
      View v, String what, AdminCall request, java.util.function.BooleanSupplier done) {
    List<RaftPeer> peers = new ArrayList<>(v.all());
    RaftClient c = newClient(peers, v.leader);
    Future<RaftClientReply> f = senders.submit(() -> request.send(c));
    long waitMs = 2 * timeoutMs() + settings.requestTimeoutMs;
    Throwable failure;
    try {
      RaftClientReply r = f.get(waitMs, TimeUnit.MILLISECONDS);
      if (r.isSuccess()) {
        return;
      }
      failure =
          r.getException() != null
              ? r.getException()
              : new IOException("the leader refused without a reason: " + r);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(what + ": interrupted", e);
    } catch (ExecutionException e) {
      failure = RatisErrors.unwrap(e.getCause());
    } catch (TimeoutException e) {
      failure =
          new NotReachableException(
              endpoints(peers), what + " got no answer within " + waitMs + " ms", e);
    } finally {
      f.cancel(true);
      try {
        c.close();
      } catch (IOException e) {
        // nothing to release any more
      }
    }
    if (failure instanceof SetConfigurationException
        || failure instanceof TransferLeadershipException) {
      if (done.getAsBoolean()) {
        return;
      }
      throw new StoreException(
          what
              + " was refused by the leader "
              + v.leader
              + ": "
              + RatisErrors.stateMachineReason(failure.getMessage())
              + (failure instanceof SetConfigurationException
                  ? " (another change may have come first: list the members and try again)"
                  : " (is the member running and caught up?)"),
          failure);
    }
    throw RatisErrors.map(failure, endpoints(peers), what, probe());
  }

  private RaftClient newClient(List<RaftPeer> peers, RaftPeerId leader) {
    RaftProperties p = settings.clientProperties();
    // A configuration change waits for new voting members to catch up: give it the connection
    // timeout rather than one request's.
    RaftClientConfigKeys.Rpc.setRequestTimeout(
        p,
        TimeDuration.valueOf(
            Math.max(timeoutMs(), settings.requestTimeoutMs), TimeUnit.MILLISECONDS));
    int attempts = (int) Math.max(1, timeoutMs() / RETRY_SLEEP_MS);
    RaftClient.Builder b =
        RaftClient.newBuilder()
            .setClientId(ClientId.randomId())
            .setRaftGroup(RaftGroup.valueOf(groupId, peers))
            .setProperties(p)
            .setParameters(settings.parameters())
            .setRetryPolicy(
                RatisErrors.notWhenDenied(
                    RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                        attempts, TimeDuration.valueOf(RETRY_SLEEP_MS, TimeUnit.MILLISECONDS))));
    if (leader != null) {
      b.setLeaderId(leader);
    }
    return b.build();
  }

  // ------------------------------------------------------------------------------ survey

  /** One member's answer to a status query: its report, or why it gave none. */
  private record Answer(RaftPeer peer, MemberReportCodec.Report report, Throwable failure) {
    /** The member's status, or an unreachable member's. */
    MemberStatus status(long askMs) {
      if (report != null) {
        return report.status();
      }
      return new MemberStatus(
          peer.getId().toString(),
          Peers.endpoint(peer),
          MemberStatus.Role.STOPPED,
          -1,
          Optional.empty(),
          -1,
          -1,
          -1,
          -1,
          -1,
          -1,
          Optional.of("no answer within " + askMs + " ms: " + reason(failure)));
    }
  }

  /**
   * What the members answered, and the configuration of the one that leads (or, with no leader, the
   * newest configuration any member told).
   */
  private record View(
      Map<String, Answer> answers, MemberReportCodec.Report conf, RaftPeerId leader) {
    List<RaftPeer> voters() {
      return conf == null ? List.of() : Peers.parse(conf.voters()).stream().sorted(BY_ID).toList();
    }

    List<RaftPeer> learners() {
      return conf == null
          ? List.of()
          : conf.learners().isEmpty()
              ? List.of()
              : Peers.parse(conf.learners()).stream().sorted(BY_ID).toList();
    }

    List<RaftPeer> all() {
      return Stream.concat(voters().stream(), learners().stream()).toList();
    }

    RaftPeer voter(String id) {
      return voters().stream()
          .filter(p -> p.getId().toString().equals(id))
          .findFirst()
          .orElse(null);
    }

    RaftPeer learner(String id) {
      return learners().stream()
          .filter(p -> p.getId().toString().equals(id))
          .findFirst()
          .orElse(null);
    }

    String describe(String id) {
      return voter(id) != null
          ? "a voting member"
          : learner(id) != null ? "a learner" : "no member";
    }

    String membersText() {
      return "voting members " + ids(voters()) + ", learners " + ids(learners());
    }
  }

  private static final Comparator<RaftPeer> BY_ID = Comparator.comparing(p -> p.getId().toString());

  /** Asks every member known (and then those the answers name) for its report. */
  private View survey() {
    Map<String, Answer> answers = new LinkedHashMap<>();
    askAll(knownPeers(), answers);
    MemberReportCodec.Report conf = confOf(answers);
    if (conf != null) {
      List<RaftPeer> missing = new ArrayList<>();
      for (String e : concat(conf.voters(), conf.learners())) {
        RaftPeer p = Peers.parse(e);
        synchronized (known) {
          known.put(p.getId().toString(), p);
        }
        if (!answers.containsKey(p.getId().toString())) {
          missing.add(p);
        }
      }
      askAll(missing, answers);
      conf = confOf(answers);
    }
    return new View(answers, conf, leaderOf(answers));
  }

  private View surveyWithLeader(String what) {
    View v = survey();
    if (v.leader == null || v.conf == null) {
      List<String> eps = endpoints(v.answers.values().stream().map(Answer::peer).toList());
      Throwable cause =
          v.answers.values().stream()
              .map(Answer::failure)
              .filter(f -> f != null)
              .findFirst()
              .orElse(null);
      if (cause != null && v.answers.values().stream().allMatch(a -> a.report == null)) {
        throw RatisErrors.map(cause, eps, what, probe());
      }
      throw new NotReachableException(
          eps, what + ": no member leads now; wait for an election and try again", cause);
    }
    return v;
  }

  private String leaderId() {
    RaftPeerId l = leaderOf(surveyAnswers());
    return l == null ? null : l.toString();
  }

  private Map<String, Answer> surveyAnswers() {
    Map<String, Answer> answers = new LinkedHashMap<>();
    askAll(knownPeers(), answers);
    return answers;
  }

  private List<RaftPeer> knownPeers() {
    synchronized (known) {
      return List.copyOf(known.values());
    }
  }

  private void askAll(List<RaftPeer> peers, Map<String, Answer> into) {
    List<CompletableFuture<Answer>> asked = peers.stream().map(this::ask).toList();
    for (CompletableFuture<Answer> f : asked) {
      Answer a = join(f);
      into.put(a.peer.getId().toString(), a);
    }
  }

  /** The leader's configuration (the highest term's, if two say they lead), else the newest. */
  private static MemberReportCodec.Report confOf(Map<String, Answer> answers) {
    MemberReportCodec.Report best = null;
    for (Answer a : answers.values()) {
      MemberReportCodec.Report r = a.report;
      if (r == null || r.voters().isEmpty()) {
        continue;
      }
      if (best == null || rank(r) > rank(best)) {
        best = r;
      } else if (rank(r) == rank(best) && r.confIndex() > best.confIndex()) {
        best = r;
      }
    }
    return best;
  }

  private static long rank(MemberReportCodec.Report r) {
    return r.status().role() == MemberStatus.Role.LEADER ? r.status().term() : -1;
  }

  private static RaftPeerId leaderOf(Map<String, Answer> answers) {
    Answer best = null;
    for (Answer a : answers.values()) {
      if (a.report != null
          && a.report.status().role() == MemberStatus.Role.LEADER
          && (best == null || a.report.status().term() > best.report.status().term())) {
        best = a;
      }
    }
    return best == null ? null : best.peer.getId();
  }

  /** Asks one member for its report; completes (never exceptionally) within {@link #askMs}. */
  private CompletableFuture<Answer> ask(RaftPeer p) {
    RaftClientRequest r =
        RaftClientRequest.newBuilder()
            .setClientId(clientId)
            .setServerId(p.getId())
            .setGroupId(groupId)
            .setCallId(CallId.getAndIncrement())
            .setMessage(Wire.status())
            .setType(RaftClientRequest.staleReadRequestType(-1))
            .build();
    CompletableFuture<RaftClientReply> sent;
    try {
      // On a thread of its own: the Netty transport connects to a new member by blocking.
      sent =
          CompletableFuture.supplyAsync(
                  () -> {
                    rpc.addRaftPeers(List.of(p));
                    return unordered ? rpc.sendRequestAsyncUnordered(r) : rpc.sendRequestAsync(r);
                  },
                  senders)
              .thenCompose(f -> f);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      sent = CompletableFuture.failedFuture(new StoreException("the ClusterAdmin is closed", e));
    }
    return sent.orTimeout(askMs, TimeUnit.MILLISECONDS)
        .handle(
            (reply, error) -> {
              Throwable t = error != null ? RatisErrors.unwrap(error) : null;
              if (t == null && !reply.isSuccess()) {
                t =
                    reply.getException() != null
                        ? reply.getException()
                        : new IOException("refused without a reason: " + reply);
              }
              if (t == null) {
                try {
                  return new Answer(
                      p, MemberReportCodec.decode(Wire.body(reply.getMessage())), null);
                } catch (IllegalStateException e) {
                  return new Answer(p, null, e);
                }
              }
              if (error != null) {
                // A connection that failed or timed out is made afresh for the next query.
                try {
                  rpc.handleException(p.getId(), t, true);
                } catch (RuntimeException ignored) {
                  // best effort
                }
              }
              return new Answer(p, null, t);
            });
  }

  private static Answer join(CompletableFuture<Answer> f) {
    return f.join(); // never fails, bounded by askMs
  }

  // ----------------------------------------------------------------------------- helpers

  private long timeoutMs() {
    return settings.connectionTimeout.toMillis();
  }

  private TlsProbe probe() {
    return new TlsProbe(endpoints(knownPeers()), settings.tls);
  }

  private static List<String> endpoints(List<RaftPeer> peers) {
    return peers.stream().map(Peers::endpoint).toList();
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static String reason(Throwable t) {
    if (t == null) {
      return "no reason given";
    }
    if (t instanceof TimeoutException) {
      return "timed out";
    }
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for the new leader", e);
    }
  }

  @Override
  public String toString() {
    return "ClusterAdmin" + endpoints(knownPeers());
  }
}
