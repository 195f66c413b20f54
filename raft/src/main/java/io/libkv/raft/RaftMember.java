package io.libkv.raft;

import io.libkv.storage.engine.OwnerOnly;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftClientAsynchronousProtocol;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Raft member: its Ratis server, state machine and local state. Directory layout under
 * the node's data directory: {@code raft/} holds the Raft log, metadata and snapshots (Ratis'
 * storage), {@code kv/} the member's applied data.
 */
final class RaftMember<S extends ReplicatedState> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RaftMember.class);

  /** Opens the member's local state in a directory. */
  interface StateFactory<S extends ReplicatedState> {
    S open(Path dir);
  }

  final RaftPeer self;
  final RaftGroup group;
  final RaftSettings settings;
  final Path dataDir;
  final S state;
  final KvStateMachine stateMachine;
  final RaftServer server;
  final ReadIndexRounds reads;
  // Tells followers each commit soon after it (no per-commit metadata entry: RaftSettings).
  private final CommitAnnouncer commits;
  // Who may make peer calls to this member, with TLS; null without.
  final PeerCertificateCheck peerCheck;
  private final List<Consumer<Boolean>> leadershipListeners = new CopyOnWriteArrayList<>();

  private RaftMember(
      RaftPeer self, RaftGroup group, RaftSettings settings, Path dataDir, S state, boolean join)
      throws IOException {
    this.self = self;
    this.group = group;
    this.settings = settings;
    this.dataDir = dataDir;
    this.state = state;
    this.reads = new ReadIndexRounds(settings.electionTimeoutMs);
    this.commits = new CommitAnnouncer(reads::appenders, self.getId().toString());
    Path raftDir = dataDir.resolve("raft");
    OwnerOnly.createDirectories(raftDir);
    DiskGuard disk =
        new DiskGuard(
            self.getId().toString(),
            List.of(raftDir, dataDir.resolve("kv")),
            settings.minFreeDiskBytes,
            settings.maxDataBytes,
            state::liveDataBytes);
    this.stateMachine =
        new KvStateMachine(
            state,
            this::onLeadership,
            commits::committed,
            disk,
            "member " + self.getId() + " (data directory " + dataDir + ")");
    stateMachine.reportWith(() -> MemberReportCodec.encode(report()));
    boolean formatted = Files.isDirectory(raftDir.resolve(group.getGroupId().getUuid().toString()));
    // A new voting member starts with no configuration and waits for the leader's (it answers
    // "not ready" until then): the path the jepsen-lite soak exercises, where membership changes
    // complete in seconds. One to be added as a learner (embedded.joinAs=learner) starts as a
    // Ratis listener of the group instead, running and never campaigning: Ratis 3.3.0 never marks
    // a listener added to a running group as caught up when the peer started without one, so it
    // would serve nothing. (Starting every joiner as a listener made voting additions stall for
    // minutes under the soak's faults.)
    RaftGroup startGroup =
        join && !formatted
            ? (settings.joinAsLearner
                ? asLearner(group, self)
                : RaftGroup.valueOf(group.getGroupId()))
            : group;
    // The leadership check of linearizable reads: the member's transport factory finds it here.
    Parameters parameters = settings.parameters();
    parameters.put(ReadIndexRounds.PARAMETER, reads, ReadIndexRounds.class);
    if (settings.tls != null) {
      // Only members' certificates may make peer calls, each for the member it names; clients'
      // requests reach the state machine with the name of their certificate (AccessRules).
      PeerCertificateCheck check = new PeerCertificateCheck(self.getId().toString());
      ClientAccessCheck access = new ClientAccessCheck(state::accessRules);
      org.apache.ratis.grpc.GrpcConfigKeys.Server.setServicesCustomizer(
          parameters, (builder, types) -> builder.intercept(check).intercept(access));
      this.peerCheck = check;
    } else {
      this.peerCheck = null;
    }
    this.server =
        RaftServer.newBuilder()
            .setServerId(self.getId())
            .setGroup(startGroup)
            .setStateMachine(stateMachine)
            .setProperties(settings.serverProperties(self, raftDir))
            .setParameters(parameters)
            .setOption(
                formatted ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT)
            .build();
    if (settings.tls != null) {
      // At a member's address, only that member's certificate: the current configuration says
      // who is where (the group given at start until the division is up).
      settings.tls.knowMembers(this::memberAt);
    }
  }

  /** The member whose address {@code host:port} is in this member's configuration, or null. */
  private String memberAt(String address) {
    List<RaftPeer> peers = new java.util.ArrayList<>();
    try {
      RaftConfiguration conf = server.getDivision(group.getGroupId()).getRaftConf();
      peers.addAll(conf.getAllPeers(RaftPeerRole.FOLLOWER));
      peers.addAll(conf.getAllPeers(RaftPeerRole.LISTENER));
    } catch (IOException | RuntimeException e) {
      peers.addAll(group.getPeers());
    }
    for (RaftPeer p : peers) {
      if (address.equals(p.getAddress())) {
        return p.getId().toString();
      }
    }
    return null;
  }

  /** The group with {@code self} as a learner (Ratis listener), the others as they are. */
  private static RaftGroup asLearner(RaftGroup group, RaftPeer self) {
    List<RaftPeer> peers =
        group.getPeers().stream()
            .map(
                p ->
                    p.getId().equals(self.getId())
                        ? RaftPeer.newBuilder(p).setStartupRole(RaftPeerRole.LISTENER).build()
                        : p)
            .toList();
    return RaftGroup.valueOf(group.getGroupId(), peers);
  }

  /**
   * Starts a member.
   *
   * @param join start as a new member with no peers, to be added with a configuration change
   * @throws UncheckedIOException if the data directory or the port cannot be used
   * @throws StoreException if the data directory is damaged, or its disk is full (saying so: free
   *     space and start again)
   */
  static <S extends ReplicatedState> RaftMember<S> start(
      RaftPeer self,
      RaftGroup group,
      RaftSettings settings,
      Path dataDir,
      StateFactory<S> states,
      boolean join) {
    try {
      return open(self, group, settings, dataDir, states, join);
    } catch (FullDiskStart.Refused e) {
      throw e;
    } catch (RuntimeException e) {
      // A full disk is not a damaged directory: say so, rather than advise clearing it.
      StoreException full = FullDiskStart.check(self.getId().toString(), dataDir, e);
      if (full != null) {
        throw full;
      }
      throw e;
    }
  }

  private static <S extends ReplicatedState> RaftMember<S> open(
      RaftPeer self,
      RaftGroup group,
      RaftSettings settings,
      Path dataDir,
      StateFactory<S> states,
      boolean join) {
    S state;
    String id = self.getId().toString();
    try {
      OwnerOnly.createDirectories(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create data directory " + dataDir, e);
    }
    FullDiskStart.beforeStart(id, dataDir, group.getGroupId().getUuid().toString());
    BootGuard.prepare(dataDir, BootGuard.currentBoot());
    try {
      state = states.open(dataDir.resolve("kv"));
    } catch (StoreException e) {
      throw DataDirCheck.damaged(
          id,
          dataDir,
          "kv/ (the member's copy of the data) cannot be opened ("
              + e.getMessage()
              + "); deleting only kv/ also works: it is rebuilt from the member's snapshot and log",
          e);
    }
    try {
      DataDirCheck.beforeStart(id, dataDir, group.getGroupId(), state.appliedIndex());
    } catch (RuntimeException e) {
      state.close();
      throw e;
    }
    RaftMember<S> m = null;
    try {
      m = new RaftMember<>(self, group, settings, dataDir, state, join);
      m.server.start();
      LOG.info("started Raft member {} at {} in {}", self.getId(), self.getAddress(), dataDir);
      return m;
    } catch (IOException | RuntimeException e) {
      if (m != null) {
        m.close();
      } else {
        state.close();
      }
      if (e instanceof IOException io) {
        throw new UncheckedIOException(
            "cannot start Raft member "
                + self.getId()
                + " at "
                + self.getAddress()
                + " in "
                + dataDir
                + ": "
                + io.getMessage(),
            io);
      }
      // Ratis reports a Raft log, snapshot or metadata file it cannot load as one of these.
      if (e instanceof java.util.concurrent.CompletionException
          || e instanceof IllegalStateException
          || e instanceof UncheckedIOException) {
        throw DataDirCheck.ratisRefused(self.getId().toString(), dataDir, e);
      }
      throw (RuntimeException) e;
    }
  }

  /**
   * Why this member's Raft server stopped by itself (a log entry it could not apply, a Raft log it
   * could not write: a full disk, an I/O error), or {@code null}.
   */
  String failure() {
    return stateMachine.failure();
  }

  /**
   * Adds a listener told once, with {@link #failure()}'s message, when this member stops by itself
   * (from a Ratis thread: it must not block); at once if it already has.
   */
  void addFailureListener(Consumer<String> l) {
    stateMachine.addFailureListener(l);
  }

  /** Whether this member currently leads the group and is ready to serve. */
  boolean isLeader() {
    return stateMachine.isLeader();
  }

  /** Whether this member knows a current leader (it has heard from one, or leads itself). */
  boolean knowsLeader() {
    try {
      return server.getDivision(group.getGroupId()).getInfo().getLeaderId() != null;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * What this member reports of itself (see {@link MemberStatus}); {@code failure} as given, and
   * {@code dataIndex} (the data's applied index) as the applied index while Raft is not running.
   */
  MemberStatus status(long dataIndex, String failure) {
    long appliedIndex = dataIndex;
    MemberStatus.Role role = MemberStatus.Role.STOPPED;
    long term = -1;
    String leaderId = null;
    long commit = -1;
    try {
      RaftServer.Division d = server.getDivision(group.getGroupId());
      var info = d.getInfo();
      if (info.isAlive()) {
        role =
            switch (info.getCurrentRole()) {
              case LEADER -> MemberStatus.Role.LEADER;
              case CANDIDATE -> MemberStatus.Role.CANDIDATE;
              case LISTENER -> MemberStatus.Role.LEARNER;
              default -> MemberStatus.Role.FOLLOWER;
            };
        // A member that joined empty and was then added as a learner keeps Ratis' follower (or
        // candidate) role until it restarts (Ratis gives the listener role only at start): the
        // configuration says what it is.
        if (role != MemberStatus.Role.LEADER
            && d.getRaftConf().getPeer(self.getId(), RaftPeerRole.LISTENER) != null) {
          role = MemberStatus.Role.LEARNER;
        }
        term = info.getCurrentTerm();
        RaftPeerId l = info.getLeaderId();
        leaderId = l == null ? null : l.toString();
        commit = d.getRaftLog().getLastCommittedIndex();
        // Ratis' own entries (a term's first entry, configurations) count as applied here, so
        // that a member caught up has applied index == commit index.
        appliedIndex = info.getLastAppliedIndex();
      }
    } catch (IOException | RuntimeException e) {
      // not running: reported as STOPPED
    }
    var snapshot = stateMachine.getLatestSnapshot();
    long snapshotIndex = snapshot == null ? -1 : snapshot.getIndex();
    long snapshotBytes = snapshot == null ? 0 : sizeOf(snapshot.getFile().getPath());
    Path raftDir = dataDir.resolve("raft");
    long logBytes = 0;
    try (var files = Files.walk(raftDir)) {
      logBytes =
          files
              .filter(f -> f.getFileName().toString().startsWith("log_"))
              .mapToLong(RaftMember::sizeOf)
              .sum();
    } catch (IOException | UncheckedIOException e) {
      // a segment rolled away while being walked: reported as what was counted
    }
    long free;
    try {
      free = Files.getFileStore(dataDir).getUsableSpace();
    } catch (IOException e) {
      free = -1;
    }
    return new MemberStatus(
        self.getId().toString(),
        Peers.endpoint(self),
        role,
        term,
        java.util.Optional.ofNullable(leaderId),
        commit,
        appliedIndex,
        logBytes,
        snapshotIndex,
        snapshotBytes,
        free,
        java.util.Optional.ofNullable(failure));
  }

  /**
   * This member's status with the configuration it knows (voters and learners; none while its Raft
   * server is not running), as a status query is answered.
   */
  MemberReportCodec.Report report() {
    MemberStatus status = status(state.appliedIndex(), stateMachine.failure());
    long confIndex = -1;
    List<String> voters = List.of();
    List<String> learners = List.of();
    try {
      RaftConfiguration conf = server.getDivision(group.getGroupId()).getRaftConf();
      confIndex = conf.getLogEntryIndex();
      voters = endpoints(conf.getCurrentPeers(RaftPeerRole.FOLLOWER));
      learners = endpoints(conf.getCurrentPeers(RaftPeerRole.LISTENER));
    } catch (IOException | RuntimeException e) {
      // not running: no configuration to tell
    }
    return new MemberReportCodec.Report(status, confIndex, voters, learners);
  }

  private static List<String> endpoints(Collection<RaftPeer> peers) {
    return peers.stream().map(Peers::endpoint).sorted().toList();
  }

  private static long sizeOf(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return 0;
    }
  }

  /** This member's current Raft term, or -1 if its group is not running. */
  long currentTerm() {
    try {
      return server.getDivision(group.getGroupId()).getInfo().getCurrentTerm();
    } catch (IOException e) {
      return -1;
    }
  }

  /** This member as a {@link RequestRouter} sees it: entries go straight into it while it leads. */
  RequestRouter.Local asLocal() {
    return new RequestRouter.Local() {
      private volatile RaftClientAsynchronousProtocol division;

      @Override
      public RaftPeerId id() {
        return self.getId();
      }

      @Override
      public boolean leads() {
        return stateMachine.isLeader();
      }

      @Override
      public RaftClientAsynchronousProtocol server() throws IOException {
        RaftClientAsynchronousProtocol d = division;
        if (d == null) {
          // Ratis' division takes requests on the calling thread; the server would hand each to
          // its client executor and wait for it.
          RaftServer.Division div = server.getDivision(group.getGroupId());
          d = div instanceof RaftClientAsynchronousProtocol p ? p : server;
          division = d;
        }
        return d;
      }

      @Override
      public CompletableFuture<RaftClientReply> read(RaftClientRequest request) throws IOException {
        return reads.submit(server.getDivision(group.getGroupId()), server(), request);
      }

      @Override
      public RaftPeer leader() {
        try {
          RaftServer.Division d = server.getDivision(group.getGroupId());
          return d.getRaftConf().getPeer(d.getInfo().getLeaderId());
        } catch (IOException e) {
          return null;
        }
      }
    };
  }

  /** Adds a listener told of every leadership change of this member (from Ratis' threads). */
  void addLeadershipListener(Consumer<Boolean> l) {
    leadershipListeners.add(l);
    if (isLeader()) {
      l.accept(true);
    }
  }

  void removeLeadershipListener(Consumer<Boolean> l) {
    leadershipListeners.remove(l);
  }

  private void onLeadership(boolean leader) {
    LOG.info("Raft member {} {} the leader", self.getId(), leader ? "is now" : "is no longer");
    for (Consumer<Boolean> l : leadershipListeners) {
      try {
        l.accept(leader);
      } catch (RuntimeException e) {
        LOG.warn("leadership listener failed on {}", self.getId(), e);
      }
    }
  }

  /** Stops the server, then closes the local state. */
  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException | RuntimeException e) {
      LOG.warn("closing Raft server {} failed", self.getId(), e);
    } finally {
      commits.close();
      state.close();
    }
  }
}
