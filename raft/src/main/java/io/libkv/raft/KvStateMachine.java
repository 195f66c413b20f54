package io.libkv.raft;

import io.libkv.storage.engine.ClientCall;
import io.libkv.store.PermissionDeniedException;
import io.libkv.store.StoreException;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
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
 * <p>Full disk: a leader whose {@link DiskGuard} reports a low disk refuses, in {@link
 * #startTransaction}, the commands of an entry that add data (the entry is refused whole when every
 * command adds data, else those commands are replaced by {@code Command.Refused}), so the disk
 * check never makes replicas disagree. If applying an entry fails anyway (the local disk is full,
 * an I/O error), the member must not skip it: Ratis 3.3.0 logs a failed apply future and moves on
 * to the next entry, which would leave this replica without that write for good. So the failure is
 * thrown instead, which Ratis treats as fatal: the member's Raft server closes, the entry stays
 * unapplied in its log, and a restart (once space is freed) applies it again. A Raft log that
 * cannot be written ({@link #notifyLogFailed}) also closes the member. {@link #failure()} says why.
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
  private final LongConsumer onCommitted;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private final DiskGuard disk;
  private final String where;
  private final AtomicReference<String> failure = new AtomicReference<>();
  private final List<Consumer<String>> failureListeners = new CopyOnWriteArrayList<>();
  private volatile boolean leader;
  // Backups being read from this member; set once the storage is known.
  private volatile SnapshotExports exports;
  private ExecutorService exportThread;
  private volatile Supplier<byte[]> report =
      () -> {
        throw new MalformedEntryException("this member reports no status", null);
      };

  /**
   * A state machine without a disk check.
   *
   * @param state the member's data, owned by the caller
   * @param onLeadership told {@code true} when this member becomes a leader ready to serve (it has
   *     applied its term's first entry), {@code false} when it stops being one
   */
  KvStateMachine(ReplicatedState state, Consumer<Boolean> onLeadership) {
    this(state, onLeadership, index -> {}, DiskGuard.OFF, "this member");
  }

  /**
   * @param state the member's data, owned by the caller
   * @param onLeadership as above
   * @param onCommitted told on the leader, on Ratis' apply thread, the index of each entry it has
   *     applied (so committed); must not block
   * @param disk the leader's low-disk check
   * @param where names the member and its data directory, for messages
   */
  KvStateMachine(
      ReplicatedState state,
      Consumer<Boolean> onLeadership,
      LongConsumer onCommitted,
      DiskGuard disk,
      String where) {
    this.state = state;
    this.onLeadership = onLeadership;
    this.onCommitted = onCommitted;
    this.disk = disk;
    this.where = where;
  }

  /** Sets what answers a status query ({@link Wire#status()}): the member's encoded report. */
  void reportWith(Supplier<byte[]> report) {
    this.report = report;
  }

  /** Why this member stopped (an entry it could not apply, a log it could not write), or null. */
  String failure() {
    return failure.get();
  }

  /**
   * Adds a listener told, once, why this member stopped by itself (on the Ratis thread that saw the
   * failure; it must not block); told at once if it already has.
   */
  void addFailureListener(Consumer<String> l) {
    failureListeners.add(l);
    String f = failure.get();
    if (f != null && failureListeners.remove(l)) {
      l.accept(f);
    }
  }

  private void failed(String why) {
    if (!failure.compareAndSet(null, why)) {
      return;
    }
    for (Consumer<String> l : failureListeners) {
      if (failureListeners.remove(l)) {
        try {
          l.accept(why);
        } catch (RuntimeException e) {
          LOG.warn("{}: failure listener failed", getId(), e);
        }
      }
    }
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
              exports =
                  new SnapshotExports(
                      raftStorage.getStorageDir().getRoot().toPath().resolve("export"),
                      state,
                      System::nanoTime);
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
    SingleFileSnapshotInfo installed = storage.loadLatestSnapshot();
    if (installed != null) {
      // Ratis 3.3.0 writes an installed snapshot's chunks and renames its directory into place
      // without an fsync: a power loss soon after could tear it, and the member would not start
      // again. Sync it (file, checksum, directories) before it is loaded.
      java.nio.file.Path file = installed.getFile().getPath();
      Durable.syncFile(file);
      java.nio.file.Path md5 = MD5FileUtil.getDigestFileForFile(file.toFile()).toPath();
      if (Files.exists(md5)) {
        Durable.syncFile(md5);
      }
      Durable.syncDir(file.getParent());
      if (file.getParent().getParent() != null) {
        Durable.syncDir(file.getParent().getParent());
      }
    }
    load(installed);
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
    // The snapshot's own applied index may be below Ratis' (its last entries were Raft's, which do
    // not reach the data): data that already holds it needs no copy (e.g. on every restart).
    long inSnapshot =
        state.appliedIndex() < ti.getIndex()
            ? state.snapshotAppliedIndex(snapshot.getFile().getPath())
            : -1;
    if (state.appliedIndex() < ti.getIndex()
        && (inSnapshot < 0 || state.appliedIndex() < inSnapshot)) {
      long restored = state.restoreFrom(snapshot.getFile().getPath());
      LOG.info(
          "{}: loaded snapshot {} (the data's applied index is now {})",
          getId(),
          snapshot.getFile(),
          restored);
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
    StateMachineLogEntryProto logged = entry.getStateMachineLogEntry();
    ByteString data = logged.getLogData();
    boolean leading = leader;
    if (leading) {
      StageTrace.mark(StageTrace.Stage.COMMIT, index);
    }
    Message reply;
    try {
      // On the leader that took the entry, its commands as startTransaction decoded and checked
      // them (what went to the log is their encoding); elsewhere decoded from the log.
      ClientCall call = call(logged, Wire.floor(data, index));
      reply =
          Wire.ok(
              trx.getStateMachineContext() instanceof ReplicatedState.Checked checked
                  ? state.apply(index, checked, call)
                  : state.apply(index, Wire.entryPayload(data, index), call));
    } catch (MalformedEntryException e) {
      LOG.warn("{}: rejected malformed log entry {}: {}", getId(), index, e.getMessage());
      reply = Wire.malformed(e.getMessage());
    } catch (NewerFormatException e) {
      // Never skip it: the members that can read it apply it. Stop with the entry unapplied; the
      // upgraded member applies it from its log at restart.
      String why = where + " stopped: " + e.getMessage() + ", then restart it";
      LOG.error("{}", why);
      failed(why);
      throw new StoreException(why, e);
    } catch (RuntimeException e) {
      // The local store failed (disk full, I/O error). Never skip the entry (a failed future would
      // make Ratis go on with the next one): throw, which closes this member's Raft server with
      // the entry unapplied; a restart applies it again from the log.
      String why =
          where
              + " stopped: applying log entry "
              + index
              + " failed ("
              + e.getMessage()
              + "); nothing is lost: free disk space and restart the member, it applies the entry"
              + " again from its log";
      LOG.error("{}", why, e);
      failed(why);
      throw new StoreException(why, e);
    }
    updateLastAppliedTermIndex(entry.getTerm(), index);
    if (leading) {
      StageTrace.mark(StageTrace.Stage.APPLIED, index);
      onCommitted.accept(index);
    }
    return CompletableFuture.completedFuture(reply);
  }

  /**
   * The client call an entry came from: the client and call ids Ratis logged with it and the floor
   * its payload carries; {@code null} for an entry outside any client session.
   */
  private static ClientCall call(StateMachineLogEntryProto logged, long floor) {
    ByteString client = logged.getClientId();
    if (floor == Wire.NO_FLOOR || client.isEmpty() || client.size() > 64) {
      return null;
    }
    long callId = logged.getCallId();
    if (floor > callId) {
      throw new MalformedEntryException(
          "its floor " + floor + " is above its call id " + callId, null);
    }
    return new ClientCall(client.toByteArray(), callId, floor);
  }

  /**
   * Runs on the leader before the entry is appended: a request that a store could not have sent
   * (malformed, a key not in normal form, a value over the limit) is refused here and never reaches
   * the log; the client gets a {@link StateMachineException}. On a leader low on disk ({@link
   * DiskGuard}), the commands that add data are refused the same way (the whole entry when every
   * command adds data, else each such command inside the entry).
   */
  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    StageTrace.leaderReceived(getId());
    ByteString content;
    AccessRules.Caller caller;
    byte[] payload;
    ReplicatedState.Checked checked;
    try {
      Wire.Authenticated sent = Wire.caller(request.getMessage().getContent());
      content = sent.content();
      caller = sent.caller();
      payload = Wire.entryPayload(content, -1);
      long floor = Wire.floor(content, -1);
      if (floor > request.getCallId()) {
        throw new MalformedEntryException(
            "its floor " + floor + " is above its call id " + request.getCallId(), null);
      }
      checked = state.validate(payload);
      if (state.changesAccessRules(checked) && content.byteAt(0) != Wire.ACCESS_ENTRY_VERSION) {
        throw new MalformedEntryException(
            "a change of the access rules travels only in a version-"
                + Wire.ACCESS_ENTRY_VERSION
                + " entry",
            null);
      }
    } catch (MalformedEntryException | NewerFormatException e) {
      return refuse(request, "refused before the log: " + e.getMessage());
    }
    boolean rewritten = false;
    ReplicatedState.Refusal denied = state.refuseDenied(checked, caller);
    if (denied != null) {
      if (denied.nothingLeft()) {
        return refuse(request, denied.reason());
      }
      payload = denied.payload();
      rewritten = true;
    }
    String low = disk.shortage(content.size());
    if (low != null) {
      ReplicatedState.Refusal r = state.refuseGrowth(payload, low);
      if (r != null) {
        if (r.nothingLeft()) {
          return refuse(request, low);
        }
        payload = r.payload();
        rewritten = true;
      }
    }
    if (rewritten) {
      return TransactionContext.newBuilder()
          .setStateMachine(this)
          .setClientRequest(request)
          .setLogData(Wire.rewrap(content, payload))
          .build();
    }
    if (!caller.trusted()) {
      // Logged without the caller's name: what members apply is what a store sent.
      return TransactionContext.newBuilder()
          .setStateMachine(this)
          .setClientRequest(request)
          .setLogData(content)
          .build()
          .setStateMachineContext(checked);
    }
    return super.startTransaction(request).setStateMachineContext(checked);
  }

  /**
   * A transaction that Ratis answers with a {@link StateMachineException} carrying {@code why}
   * without appending anything. (Throwing from {@link #startTransaction} instead fails the RPC,
   * which the client retries until its timeout.)
   */
  private TransactionContext refuse(RaftClientRequest request, String why) throws IOException {
    return super.startTransaction(request).setException(new StateMachineException(why));
  }

  /**
   * Ratis' log worker could not write the Raft log (the disk is full, an I/O error): every later
   * append would fail too, so the member stops (its Raft server closes) rather than linger as a
   * member that cannot log; a restart once space is freed resumes from what was written.
   */
  @Override
  public void notifyLogFailed(Throwable cause, LogEntryProto failedEntry) {
    if (closing(cause)) {
      LOG.info(
          "{}: Raft log write interrupted while the member closes: {}", getId(), cause.toString());
      return;
    }
    String why =
        where
            + " stopped: its Raft log could not be written"
            + (failedEntry == null ? "" : " at index " + failedEntry.getIndex())
            + " ("
            + cause
            + "); free disk space and restart the member, it resumes from what its log holds";
    if (failure.get() != null) {
      return;
    }
    LOG.error("{}", why, cause);
    failed(why);
    Thread t =
        new Thread(
            () -> {
              try {
                RaftServer server = getServer().getNow(null); // set by initialize
                if (server != null) {
                  server.getDivision(getGroupId()).close();
                }
              } catch (IOException | RuntimeException e) {
                LOG.warn("{}: closing after a log failure failed", getId(), e);
              }
            },
            "libkv-log-failed-" + getId());
    t.setDaemon(true);
    t.start();
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    StageTrace.mark(StageTrace.Stage.QUERY);
    try {
      Wire.Authenticated sent = Wire.caller(request.getContent());
      if (Wire.isExport(sent.content())) {
        PermissionDeniedException no =
            state.accessRules().deny(sent.caller(), "", Permission.ADMIN);
        if (no != null) {
          return CompletableFuture.completedFuture(Wire.denied(no));
        }
        return export(sent.content());
      }
      return CompletableFuture.completedFuture(
          Wire.query(sent.content(), state, report, sent.caller()));
    } catch (MalformedEntryException e) {
      return CompletableFuture.completedFuture(Wire.malformed(e.getMessage()));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * A backup's query: copying the data or reading a chunk touches the disk, so it runs on this
   * member's export thread, not on the Ratis thread that completed the ReadIndex.
   */
  private CompletableFuture<Message> export(ByteString request) {
    SnapshotExports ex = exports;
    if (ex == null) {
      return CompletableFuture.completedFuture(Wire.malformed("the member is not started"));
    }
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return Wire.export(request, ex);
          } catch (MalformedEntryException e) {
            return Wire.malformed(e.getMessage());
          }
        },
        exportThread());
  }

  private synchronized ExecutorService exportThread() {
    if (exportThread == null) {
      exportThread =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "libkv-export-" + getId());
                t.setDaemon(true);
                return t;
              });
    }
    return exportThread;
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
    } catch (RuntimeException e) {
      // E.g. no space for the copy: an IOException makes Ratis log it and try again later (any
      // other exception would close the member); the log is just not purged meanwhile.
      Files.deleteIfExists(tmp.toPath());
      throw new IOException(
          where + ": cannot take a snapshot at " + last + ": " + e.getMessage(), e);
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

  /** Whether a log failure is only the member closing (the log worker interrupted mid-write). */
  private boolean closing(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof java.nio.channels.ClosedChannelException
          || t instanceof java.io.InterruptedIOException) {
        return true;
      }
    }
    try {
      LifeCycle.State s =
          getServer().getNow(null).getDivision(getGroupId()).getInfo().getLifeCycleState();
      return s.isClosingOrClosed();
    } catch (IOException | RuntimeException e) {
      return false;
    }
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
    synchronized (this) {
      if (exportThread != null) {
        exportThread.shutdownNow();
      }
    }
    SnapshotExports ex = exports;
    if (ex != null) {
      ex.close();
    }
    super.close();
  }
}
