package io.libkv.raft;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Raft state machine of one member: applies committed entries, in log order, to the member's
 * {@link ReplicatedState}, serves read-only queries, and takes and installs snapshots.
 *
 * <p>Wire format (see {@link Wire}): an entry is {@code [version][kind][payload]}; a reply is
 * {@code [status][body]}. A malformed entry is answered with {@link Wire#STATUS_MALFORMED} and
 * changes nothing: never an exception, which Ratis would treat as fatal.
 *
 * <p>Snapshots are the state's compacting copy in one file named {@code snapshot.<term>_<index>}
 * where term/index is the last applied entry: since {@link #applyTransaction} applies synchronously
 * on Ratis' apply thread, which also calls {@link #takeSnapshot}, the copy holds exactly that
 * state.
 */
final class KvStateMachine extends BaseStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(KvStateMachine.class);

  private final ReplicatedState state;
  private final Consumer<Boolean> onLeadership;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private volatile boolean leader;

  /**
   * @param state the member's data, owned by the caller
   * @param onLeadership told {@code true} when this member becomes a leader ready to serve (it has
   *     applied its term's first entry), {@code false} when it stops being one
   */
  KvStateMachine(ReplicatedState state, Consumer<Boolean> onLeadership) {
    this.state = state;
    this.onLeadership = onLeadership;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
      throws IOException {
    // The life cycle must reach RUNNING: Ratis pauses the machine (RUNNING -> PAUSED) before it
    // reloads an installed snapshot.
    getLifeCycle()
        .startAndTransition(
            () -> {
              super.initialize(server, groupId, raftStorage);
              storage.init(raftStorage);
              load(storage.loadLatestSnapshot());
            },
            IOException.class);
  }

  @Override
  public void pause() {
    // Before installing a snapshot; reinitialize() resumes.
    LifeCycle lc = getLifeCycle();
    if (lc.getCurrentState() == LifeCycle.State.RUNNING) {
      lc.transition(LifeCycle.State.PAUSING);
      lc.transition(LifeCycle.State.PAUSED);
    }
  }

  @Override
  public void reinitialize() throws IOException {
    // A snapshot was installed from the leader: replace the data with it.
    load(storage.loadLatestSnapshot());
    LifeCycle lc = getLifeCycle();
    if (lc.getCurrentState() == LifeCycle.State.PAUSED) {
      lc.transition(LifeCycle.State.STARTING);
      lc.transition(LifeCycle.State.RUNNING);
    }
  }

  private void load(SingleFileSnapshotInfo snapshot) {
    if (snapshot == null) {
      return;
    }
    TermIndex ti = snapshot.getTermIndex();
    if (state.appliedIndex() < ti.getIndex()) {
      long restored = state.restoreFrom(snapshot.getFile().getPath());
      LOG.info(
          "{}: restored snapshot {} (applied index {})", getId(), snapshot.getFile(), restored);
    }
    // Ratis replays the log after this index; the state skips entries it already holds.
    setLastAppliedTermIndex(ti);
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return storage;
  }

  @Override
  public SingleFileSnapshotInfo getLatestSnapshot() {
    return storage.getLatestSnapshot();
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long index = entry.getIndex();
    ByteString data = entry.getStateMachineLogEntry().getLogData();
    Message reply;
    try {
      byte[] payload = Wire.entryPayload(data, index);
      reply = Wire.ok(state.apply(index, payload));
    } catch (MalformedEntryException e) {
      LOG.warn("{}: rejected malformed log entry {}: {}", getId(), index, e.getMessage());
      reply = Wire.malformed(e.getMessage());
    } catch (RuntimeException e) {
      // The local store failed (disk full, I/O error): this replica can no longer follow the log.
      // Completing exceptionally makes Ratis report it; it is not a client error.
      LOG.error("{}: applying log entry {} failed", getId(), index, e);
      updateLastAppliedTermIndex(entry.getTerm(), index);
      return CompletableFuture.failedFuture(e);
    }
    updateLastAppliedTermIndex(entry.getTerm(), index);
    return CompletableFuture.completedFuture(reply);
  }

  /**
   * Runs on the leader before the entry is appended: a request that a store could not have sent
   * (malformed, a key not in normal form, a value over the limit) is refused here and never reaches
   * the log; the client gets a {@link StateMachineException}.
   */
  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    try {
      state.validate(Wire.entryPayload(request.getMessage().getContent(), -1));
    } catch (MalformedEntryException e) {
      throw new StateMachineException("refused before the log: " + e.getMessage());
    }
    return super.startTransaction(request);
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    try {
      return CompletableFuture.completedFuture(Wire.query(request.getContent(), state));
    } catch (MalformedEntryException e) {
      return CompletableFuture.completedFuture(Wire.malformed(e.getMessage()));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public long takeSnapshot() throws IOException {
    TermIndex last = getLastAppliedTermIndex();
    if (last == null || last.getIndex() <= 0) {
      return RaftLog.INVALID_LOG_INDEX;
    }
    SingleFileSnapshotInfo latest = storage.getLatestSnapshot();
    if (latest != null && latest.getIndex() >= last.getIndex()) {
      return latest.getIndex();
    }
    File target = storage.getSnapshotFile(last.getTerm(), last.getIndex());
    File tmp = new File(target.getParentFile(), "tmp-" + target.getName());
    Files.deleteIfExists(tmp.toPath());
    try {
      state.snapshotTo(tmp.toPath()); // synced
      Files.move(tmp.toPath(), target.toPath(), StandardCopyOption.ATOMIC_MOVE);
    } catch (UncheckedIOException e) {
      Files.deleteIfExists(tmp.toPath());
      throw e.getCause();
    }
    MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(target);
    // Both files are synced (the .md5 by Ratis as it writes it): now their names, before Ratis
    // hears of the snapshot and purges the log up to its index.
    Durable.syncDir(target.getParentFile().toPath());
    storage.updateLatestSnapshot(
        new SingleFileSnapshotInfo(new FileInfo(target.toPath(), md5), last));
    storage.cleanupOldSnapshots(
        new SnapshotRetentionPolicy() {
          @Override
          public int getNumSnapshotsRetained() {
            return 2;
          }
        });
    LOG.info("{}: took snapshot {}", getId(), target);
    return last.getIndex();
  }

  @Override
  public void notifyLeaderReady() {
    setLeader(true);
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId newLeaderId) {
    if (!member.getPeerId().equals(newLeaderId)) {
      setLeader(false);
    }
  }

  @Override
  public void notifyNotLeader(Collection<TransactionContext> pending) {
    setLeader(false);
  }

  /** Whether this member is the leader and has applied its term's first entry. */
  boolean isLeader() {
    return leader;
  }

  private void setLeader(boolean now) {
    if (leader != now) {
      leader = now;
      try {
        onLeadership.accept(now);
      } catch (RuntimeException e) {
        LOG.warn("{}: leadership listener failed", getId(), e);
      }
    }
  }

  @Override
  public void close() throws IOException {
    setLeader(false);
    super.close();
  }
}
