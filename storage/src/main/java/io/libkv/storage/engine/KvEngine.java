package io.libkv.storage.engine;

import io.libkv.spi.JvmAccess;
import io.libkv.spi.Keys;
import io.libkv.store.HistoryCompactedException;
import io.libkv.store.KVPair;
import io.libkv.store.StoreException;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.stream.Stream;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;
import org.agrona.concurrent.UnsafeBuffer;
import org.lmdbjava.CopyFlags;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.DirectBufferProxy;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.GetOp;
import org.lmdbjava.LmdbException;
import org.lmdbjava.SeekOp;
import org.lmdbjava.Stat;
import org.lmdbjava.Txn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LMDB key-value engine: the local store of {@code Backend.LMDB} and the state machine of the
 * embedded Raft backend.
 *
 * <h2>Data model</h2>
 *
 * key &rarr; (value, createRevision, modRevision, leaseId), leases (id &rarr; TTL), a bounded
 * revision history (every change, for {@code watch(key, afterIndex)}), and one record holding the
 * applied index, the last revision and the history floor, written in the SAME write transaction as
 * the data it describes, so after a restart the indices never go back.
 *
 * <p>Keys starting with {@link #INTERNAL_PREFIX} (a NUL, which {@link Keys#normalize} never
 * produces) are internal: lock queues. A user directory listing never reaches them.
 *
 * <h2>Writing: {@link #apply}</h2>
 *
 * One thread (the apply thread) calls {@link #apply} with a batch of commands, the applied index to
 * record and the revision of the first command ({@code firstRevision + i} for command {@code i}).
 * The whole batch is one write transaction (one fsync when {@code sync} is on). Domain errors
 * (failed compare-and-set, missing key) are results, not exceptions, and do not abort the batch. A
 * batch whose applied index is at or below the stored one is skipped (every result is {@link
 * CommandResult.Skipped}): Ratis re-applies entries after a restart. When the LMDB map is full the
 * transaction is aborted, the map doubled and the batch applied again. After the commit, every
 * {@link ApplyListener} is told, on the apply thread.
 *
 * <p>For the embedded Raft backend: call {@code apply(logIndex, logIndex << 16, commands)} from
 * {@code applyTransaction} (commands decoded with {@link CommandCodec#decodeCommands} first, so a
 * malformed entry changes nothing), and encode the results with {@link CommandCodec#encodeResults}.
 *
 * <h2>Reading</h2>
 *
 * {@link #read} runs a function against one snapshot, in a pooled read transaction ({@code
 * reset()/renew()}); any thread, concurrently with the writer.
 *
 * <h2>Sharing</h2>
 *
 * {@link #open} returns the one engine of a data directory in this JVM and counts references;
 * {@link #close} releases one, the last closes the environment.
 *
 * <h2>Errors</h2>
 *
 * LMDB failures become {@link StoreException}s naming the directory; misuse (a revision that does
 * not grow, a closed engine) gives {@link IllegalArgumentException}/{@link IllegalStateException}.
 */
public final class KvEngine implements KvReader, AutoCloseable {
  /** Internal keys start with this (a NUL character); user keys never do. */
  public static final String INTERNAL_PREFIX = "\u0000";

  /** The longest key LMDB stores, in bytes. */
  static final int MAX_KEY_BYTES = Keys.MAX_KEY_BYTES;

  private static final Logger LOG = LoggerFactory.getLogger(KvEngine.class);
  private static final SharedByDirectory<KvEngine> OPEN =
      new SharedByDirectory<>("LMDB data directory");
  private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;
  private static final byte[] META_KEY = {'m'};
  // The environment's format version (an int), written when an environment is created; absent in
  // environments made before it was recorded, which are version 1.
  private static final byte[] FORMAT_KEY = {'v'};
  // The access rules: [revision they were set at: long][the rules' bytes]; absent if never set.
  private static final byte[] ACCESS_KEY = {'a'};

  /** The name a conflicting {@link Command.SetAccessRules} is reported under. */
  public static final String ACCESS_RULES = "access rules";

  /**
   * The access rules kept with the data, as the last {@link Command.SetAccessRules} applied left
   * them.
   *
   * @param revision the revision of the command that set them, 0 if none ever did
   * @param rules their bytes, empty for none (do not modify)
   */
  public record AccessRules(long revision, byte[] rules) {
    /** No rules ever set. */
    public static final AccessRules NONE = new AccessRules(0, new byte[0]);
  }

  /**
   * The on-disk format this engine writes and reads. An environment or snapshot recording a newer
   * one is refused with a message naming both, never misread.
   */
  public static final int FORMAT_VERSION = 1;

  private static final byte KEY_LEASE = 1;

  private final Path dir;
  private final EngineOptions options;
  private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
  private final ManyToManyConcurrentArrayQueue<ReadSlot> readSlots;
  private final Semaphore readPermits;
  private final CopyOnWriteArrayList<ApplyListener> listeners = new CopyOnWriteArrayList<>();
  private final WriteScratch scratch = new WriteScratch();
  private volatile boolean closed;

  // Replaced only by restoreFrom, under the gate's write lock.
  private Env<DirectBuffer> env;
  private Dbi<DirectBuffer> kv;
  private Dbi<DirectBuffer> hist;
  private Dbi<DirectBuffer> lease;
  private Dbi<DirectBuffer> leaseKeys;
  private Dbi<DirectBuffer> meta;
  private ClientSessions sessions;

  private volatile long appliedIndex;
  private volatile long lastRevision;
  private volatile AccessRules accessRules = AccessRules.NONE;

  private KvEngine(Path dir, EngineOptions options) {
    this.dir = dir;
    this.options = options;
    this.readSlots = new ManyToManyConcurrentArrayQueue<>(Math.max(2, options.maxReaders() / 2));
    // Leave slots for LMDB's own readers (Env.copy) and the environment's other users.
    this.readPermits = new Semaphore(Math.max(1, options.maxReaders() - 4));
    openEnv();
  }

  /**
   * Opens the engine of {@code dir} (created if absent), or returns the one already open in this
   * JVM with one more reference. The options of the first open win.
   *
   * @throws IllegalStateException if the JVM lacks the flags lmdbjava needs ({@link JvmAccess})
   * @throws StoreException if LMDB cannot open the directory
   */
  public static KvEngine open(Path dir, EngineOptions options) {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(options, "options");
    JvmAccess.requireNioAccess("libkv LMDB engine");
    return OPEN.acquire(OPEN.realPath(dir), real -> new KvEngine(real, options), e -> {});
  }

  /** The (real) data directory. */
  public Path dataDir() {
    return dir;
  }

  /** The options the engine was opened with. */
  public EngineOptions options() {
    return options;
  }

  /** The applied index of the last committed batch (0 for a new engine). */
  public long appliedIndex() {
    return appliedIndex;
  }

  /** The highest revision used by a committed batch (0 for a new engine). */
  public long lastRevision() {
    return lastRevision;
  }

  /** The access rules as of the last applied batch (as restored, after a restore). */
  public AccessRules accessRules() {
    return accessRules;
  }

  /** Adds a listener told after every commit, on the apply thread. */
  public void addListener(ApplyListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Removes a listener. */
  public void removeListener(ApplyListener listener) {
    listeners.remove(listener);
  }

  /** The current LMDB map size in bytes (grows by itself). */
  public long mapSizeBytes() {
    gate.readLock().lock();
    try {
      requireOpen();
      return env.info().mapSize;
    } finally {
      gate.readLock().unlock();
    }
  }

  /**
   * The bytes of the LMDB pages that hold the live data: keys, values and leases (not the revision
   * history, which is bounded by its count, nor free pages). Deleting keys lowers it at once. Any
   * thread; a few {@code mdb_stat} calls in a read transaction.
   *
   * @throws StoreException if LMDB fails
   */
  public long liveDataBytes() {
    gate.readLock().lock();
    try {
      requireOpen();
      try (Txn<DirectBuffer> txn = env.txnRead()) {
        long bytes = 0;
        for (Dbi<DirectBuffer> d : List.of(kv, lease, leaseKeys)) {
          Stat st = d.stat(txn);
          bytes += (st.branchPages + st.leafPages + st.overflowPages) * st.pageSize;
        }
        return bytes;
      }
    } catch (LmdbException e) {
      throw LmdbErrors.map("measure the data", dir, e);
    } finally {
      gate.readLock().unlock();
    }
  }

  /**
   * How many leases the data holds now: granted leases (locks, sessions) and the leases of keys
   * written with a TTL, until they are revoked or expire. Any thread; one {@code mdb_stat} call in
   * a read transaction.
   *
   * @throws IllegalStateException if the engine is closed
   * @throws StoreException if LMDB fails
   */
  public long liveLeases() {
    gate.readLock().lock();
    try {
      requireOpen();
      try (Txn<DirectBuffer> txn = env.txnRead()) {
        return lease.stat(txn).entries;
      }
    } catch (LmdbException e) {
      throw LmdbErrors.map("count the leases", dir, e);
    } finally {
      gate.readLock().unlock();
    }
  }

  // ------------------------------------------------------------------------------------------
  // Writing

  /**
   * Applies a batch of commands in one write transaction, together with {@code appliedIndex}.
   * Single writer: only the apply thread calls this (and {@link #restoreFrom}).
   *
   * @param appliedIndex the index to record (Raft's log index; the LMDB backend's last revision);
   *     if it is not greater than {@link #appliedIndex()} the batch is skipped
   * @param firstRevision the revision of the first command; command {@code i} gets {@code
   *     firstRevision + i}; must be greater than {@link #lastRevision()} unless the batch is
   *     skipped
   * @param commands the commands (may be empty: only the applied index moves)
   * @return one result per command, in order
   * @throws IllegalArgumentException if the revisions would not grow
   * @throws StoreException if LMDB fails (nothing of the batch is then applied)
   */
  public List<CommandResult> apply(
      long appliedIndex, long firstRevision, List<? extends Command> commands) {
    return apply(appliedIndex, firstRevision, commands, null);
  }

  /**
   * Applies a batch as {@link #apply(long, long, List)} does, exactly once per client call: when
   * {@code call} is a late copy of a call its client had finished with (its call id is below the
   * floor a later batch of that client carried: {@link ClientCall}), no command is applied, only
   * the applied index moves, and every result is {@link CommandResult.Skipped}. Otherwise the batch
   * is applied and the client's session (its floor, the index it was last seen at) is recorded in
   * the same transaction.
   *
   * @param call who sent the batch, or {@code null} for a batch outside any session
   */
  public List<CommandResult> apply(
      long appliedIndex, long firstRevision, List<? extends Command> commands, ClientCall call) {
    Objects.requireNonNull(commands, "commands");
    requireOpen();
    boolean full = false;
    while (true) {
      Batch batch;
      try (Txn<DirectBuffer> txn = env.txnWrite()) {
        long[] m = readMeta(txn);
        if (appliedIndex <= m[0]) {
          List<CommandResult> skipped = new ArrayList<>(commands.size());
          for (int i = 0; i < commands.size(); i++) {
            skipped.add(new CommandResult.Skipped(m[0]));
          }
          return skipped;
        }
        if (call != null && !sessions.admit(txn, call, appliedIndex)) {
          writeMeta(txn, appliedIndex, m[1], m[2]);
          txn.commit();
          this.appliedIndex = appliedIndex;
          notifyListeners(new AppliedBatch(appliedIndex, m[1], List.of(), List.of()));
          List<CommandResult> late = new ArrayList<>(commands.size());
          for (int i = 0; i < commands.size(); i++) {
            late.add(new CommandResult.Skipped(appliedIndex));
          }
          return late;
        }
        if (!commands.isEmpty() && firstRevision <= m[1]) {
          throw new IllegalArgumentException(
              "revisions must grow: first revision "
                  + firstRevision
                  + " is not greater than the last revision "
                  + m[1]
                  + " (applied index "
                  + appliedIndex
                  + ")");
        }
        batch = new Batch(txn, m[2], full);
        List<CommandResult> results = new ArrayList<>(commands.size());
        for (int i = 0; i < commands.size(); i++) {
          results.add(batch.apply(commands.get(i), firstRevision + i));
        }
        long newLast = commands.isEmpty() ? m[1] : firstRevision + commands.size() - 1;
        long floor = batch.trimHistory();
        writeMeta(txn, appliedIndex, newLast, floor);
        txn.commit();
        this.appliedIndex = appliedIndex;
        this.lastRevision = newLast;
        if (batch.accessRules != null) {
          this.accessRules = batch.accessRules;
        }
        notifyListeners(new AppliedBatch(appliedIndex, newLast, batch.changes, batch.leaseEvents));
        return results;
      } catch (Env.MapFullException e) {
        if (!growMap()) {
          if (full) {
            // Even without the commands that add data the batch does not fit.
            throw new StoreException(fullMessage(), e);
          }
          // At the size limit: apply the batch again, failing only the commands that add data,
          // so that deletes (which free space) still work.
          full = true;
        }
      } catch (LmdbException e) {
        throw LmdbErrors.map("apply a batch at index " + appliedIndex, dir, e);
      }
    }
  }

  private void notifyListeners(AppliedBatch applied) {
    for (ApplyListener l : listeners) {
      try {
        l.onApplied(applied);
      } catch (RuntimeException e) {
        LOG.warn("ApplyListener " + l + " failed", e);
      }
    }
  }

  private String fullMessage() {
    return "LMDB store "
        + dir
        + " is full: map size limit of "
        + options.maxMapSizeBytes()
        + " bytes (lmdb.maxMapSize) reached; delete keys or raise the limit";
  }

  /** Doubles the map up to the limit; returns false when it is at the limit already. */
  private boolean growMap() {
    gate.writeLock().lock();
    try {
      long size = env.info().mapSize;
      long max = options.maxMapSizeBytes();
      if (max != 0 && size >= max) {
        return false;
      }
      long next = max == 0 ? size * 2 : Math.min(size * 2, max);
      LOG.info("LMDB map of " + dir + " is full at " + size + " bytes; growing to " + next);
      env.setMapSize(next);
      return true;
    } catch (LmdbException e) {
      throw LmdbErrors.map("grow the map", dir, e);
    } finally {
      gate.writeLock().unlock();
    }
  }

  /** One write transaction's work. Apply thread only. */
  private final class Batch {
    final Txn<DirectBuffer> txn;
    final List<ChangeEvent> changes = new ArrayList<>();
    final List<LeaseEvent> leaseEvents = new ArrayList<>();
    final boolean full;
    long floor;
    int seq;
    AccessRules accessRules; // set by this batch, published after its commit

    Batch(Txn<DirectBuffer> txn, long floor, boolean full) {
      this.txn = txn;
      this.floor = floor;
      this.full = full;
    }

    CommandResult apply(Command c, long rev) {
      seq = 0;
      if (c instanceof Command.Refused r) {
        return new CommandResult.Failed(r.reason());
      }
      if (full && c.addsData()) {
        return new CommandResult.Failed(fullMessage());
      }
      if (c instanceof Command.Put p) {
        return put(p.key(), p.value(), p.leaseId(), p.ttlMillis(), rev, -1);
      } else if (c instanceof Command.CasPut p) {
        if (p.expectedIndex() < 0) {
          return new CommandResult.Rejected("expected index must not be negative: " + p);
        }
        return put(p.key(), p.value(), p.leaseId(), p.ttlMillis(), rev, p.expectedIndex());
      } else if (c instanceof Command.Delete d) {
        return delete(d.key(), -1, rev);
      } else if (c instanceof Command.CasDelete d) {
        if (d.expectedIndex() <= 0) {
          return new CommandResult.PreviousNotSpecified(d.key());
        }
        return delete(d.key(), d.expectedIndex(), rev);
      } else if (c instanceof Command.DeleteTree d) {
        return deleteTree(d.directory(), rev);
      } else if (c instanceof Command.LeaseGrant g) {
        return grant(g.leaseId(), g.ttlMillis(), rev);
      } else if (c instanceof Command.LeaseKeepAlive k) {
        long[] l = getLease(k.leaseId());
        if (l == null) {
          return new CommandResult.LeaseNotFound(k.leaseId());
        }
        leaseEvents.add(new LeaseEvent(k.leaseId(), l[0], LeaseEvent.Kind.KEPT_ALIVE));
        return new CommandResult.LeaseKept(k.leaseId(), l[0]);
      } else if (c instanceof Command.LeaseRevoke r) {
        return revoke(r.leaseId(), rev);
      } else if (c instanceof Command.LockEnqueue q) {
        return enqueue(q.queuePrefix(), q.ttlMillis(), rev);
      } else if (c instanceof Command.SetAccessRules a) {
        return setAccessRules(a, rev);
      }
      throw new IllegalArgumentException("unknown command " + c);
    }

    private CommandResult setAccessRules(Command.SetAccessRules a, long rev) {
      AccessRules now = accessRules != null ? accessRules : readAccessRules(meta, txn);
      if (now.revision() != a.expectedRevision()) {
        return new CommandResult.KeyModified(ACCESS_RULES, a.expectedRevision(), now.revision());
      }
      UnsafeBuffer v = new UnsafeBuffer(ByteBuffer.allocateDirect(8 + a.rules().length));
      v.putLong(0, rev, BE);
      v.putBytes(8, a.rules());
      meta.put(txn, direct(ACCESS_KEY), v);
      accessRules = new AccessRules(rev, a.rules().clone());
      return new CommandResult.Written(rev);
    }

    private CommandResult put(
        String key, byte[] value, long leaseId, long ttlMillis, long rev, long expected) {
      byte[] k = utf8(key);
      String bad = checkUserKey(key, k);
      if (bad != null) {
        return new CommandResult.Rejected(bad);
      }
      if (ttlMillis < 0 || (ttlMillis > 0 && leaseId != 0) || leaseId < 0) {
        return new CommandResult.Rejected(
            "invalid lease/ttl for " + key + ": lease " + leaseId + ", ttl " + ttlMillis + "ms");
      }
      KvEntry old = getEntry(txn, k, key);
      if (expected == 0 && old != null) {
        return new CommandResult.KeyExists(key);
      }
      if (expected > 0) {
        if (old == null) {
          return new CommandResult.KeyNotFound(key);
        }
        if (old.modRevision() != expected) {
          return new CommandResult.KeyModified(key, expected, old.modRevision());
        }
      }
      if (leaseId != 0 && getLease(leaseId) == null) {
        return new CommandResult.LeaseNotFound(leaseId);
      }
      if (old != null && old.leaseId() != 0) {
        detach(k, old.leaseId(), old.leaseId() != leaseId);
      }
      long newLease = leaseId;
      if (ttlMillis > 0) {
        newLease = rev;
        putLease(rev, ttlMillis, true);
      }
      if (newLease != 0) {
        leaseKeys.put(txn, scratch.longKey(newLease), scratch.key(k));
      }
      long create = old == null ? rev : old.createRevision();
      putEntry(k, value, create, rev, newLease);
      history(rev, key, k, value, create, newLease);
      return new CommandResult.Written(rev);
    }

    private CommandResult delete(String key, long expected, long rev) {
      byte[] k = utf8(key);
      String bad = checkUserKey(key, k);
      if (bad != null) {
        return new CommandResult.Rejected(bad);
      }
      KvEntry old = getEntry(txn, k, key);
      if (old == null) {
        return new CommandResult.KeyNotFound(key);
      }
      if (expected > 0 && old.modRevision() != expected) {
        return new CommandResult.KeyModified(key, expected, old.modRevision());
      }
      deleteEntry(k, old, rev, true);
      return new CommandResult.Deleted(List.of(old.toPair()), rev);
    }

    private CommandResult deleteTree(String directory, long rev) {
      byte[] k = utf8(directory);
      String bad = checkUserKey(directory, k);
      if (bad != null) {
        return new CommandResult.Rejected(bad);
      }
      List<KvEntry> doomed = new ArrayList<>();
      KvEntry self = getEntry(txn, k, directory);
      if (self != null) {
        doomed.add(self);
      }
      doomed.addAll(scanPrefix(txn, utf8(directory + "/"), scratch.keyBuf2));
      List<KVPair> previous = new ArrayList<>(doomed.size());
      for (KvEntry e : doomed) {
        deleteEntry(utf8(e.key()), e, rev, true);
        previous.add(e.toPair());
      }
      return new CommandResult.Deleted(previous, rev);
    }

    private CommandResult grant(long leaseId, long ttlMillis, long rev) {
      if (ttlMillis <= 0 || leaseId < 0) {
        return new CommandResult.Rejected(
            "lease grant needs a positive ttl and a non-negative id: id "
                + leaseId
                + ", ttl "
                + ttlMillis
                + "ms");
      }
      long id = leaseId == 0 ? rev : leaseId;
      if (getLease(id) != null) {
        return new CommandResult.Rejected("lease " + id + " already exists");
      }
      putLease(id, ttlMillis, false);
      return new CommandResult.LeaseGranted(id, ttlMillis);
    }

    private CommandResult revoke(long leaseId, long rev) {
      long[] l = getLease(leaseId);
      if (l == null) {
        return new CommandResult.LeaseNotFound(leaseId);
      }
      List<byte[]> keys = leaseKeyList(leaseId);
      List<KVPair> previous = new ArrayList<>(keys.size());
      for (byte[] k : keys) {
        String key = new String(k, StandardCharsets.UTF_8);
        KvEntry old = getEntry(txn, k, key);
        if (old != null && old.leaseId() == leaseId) {
          deleteEntry(k, old, rev, false);
          previous.add(old.toPair());
        }
      }
      if (!keys.isEmpty()) {
        leaseKeys.delete(txn, scratch.longKey(leaseId));
      }
      lease.delete(txn, scratch.longKey(leaseId));
      leaseEvents.add(new LeaseEvent(leaseId, l[0], LeaseEvent.Kind.REVOKED));
      return new CommandResult.Deleted(previous, rev);
    }

    private CommandResult enqueue(String prefix, long ttlMillis, long rev) {
      if (!prefix.startsWith(INTERNAL_PREFIX) || ttlMillis <= 0) {
        return new CommandResult.Rejected(
            "lock queue prefix must be internal and ttl positive: ttl " + ttlMillis + "ms");
      }
      String waiter = prefix + String.format("%016x", rev);
      byte[] k = utf8(waiter);
      if (k.length > MAX_KEY_BYTES) {
        return new CommandResult.Rejected("lock queue key too long: " + k.length + " bytes");
      }
      if (getLease(rev) != null) {
        return new CommandResult.Rejected("lease " + rev + " already exists");
      }
      List<KvEntry> queue = scanPrefix(txn, utf8(prefix), scratch.keyBuf2);
      String predecessor = queue.isEmpty() ? null : queue.get(queue.size() - 1).key();
      putLease(rev, ttlMillis, false);
      leaseKeys.put(txn, scratch.longKey(rev), scratch.key(k));
      byte[] empty = new byte[0];
      putEntry(k, empty, rev, rev, rev);
      history(rev, waiter, k, empty, rev, rev);
      return new CommandResult.Enqueued(rev, waiter, rev, predecessor);
    }

    /** Detaches a key from its lease; a key lease ends with its key. */
    private void detach(byte[] k, long leaseId, boolean endKeyLease) {
      leaseKeys.delete(txn, scratch.longKey(leaseId), scratch.key(k));
      if (endKeyLease) {
        long[] l = getLease(leaseId);
        if (l != null && l[1] == KEY_LEASE) {
          lease.delete(txn, scratch.longKey(leaseId));
          leaseEvents.add(new LeaseEvent(leaseId, l[0], LeaseEvent.Kind.REVOKED));
        }
      }
    }

    private void deleteEntry(byte[] k, KvEntry old, long rev, boolean detachLease) {
      kv.delete(txn, scratch.key(k));
      if (detachLease && old.leaseId() != 0) {
        detach(k, old.leaseId(), true);
      }
      history(rev, old.key(), k, null, old.createRevision(), old.leaseId());
    }

    private void putEntry(byte[] k, byte[] value, long create, long mod, long leaseId) {
      ExpandableDirectByteBuffer b = scratch.value;
      b.checkLimit(24 + value.length);
      b.putLong(0, create, BE);
      b.putLong(8, mod, BE);
      b.putLong(16, leaseId, BE);
      b.putBytes(24, value);
      kv.put(txn, scratch.key(k), scratch.valueView(24 + value.length));
    }

    private void history(long rev, String key, byte[] k, byte[] value, long create, long leaseId) {
      ExpandableDirectByteBuffer b = scratch.value;
      int len = 1 + 8 + 8 + 2 + k.length + (value == null ? 0 : value.length);
      b.checkLimit(len);
      b.putByte(0, (byte) (value == null ? 1 : 0));
      b.putLong(1, create, BE);
      b.putLong(9, leaseId, BE);
      b.putShort(17, (short) k.length, BE);
      b.putBytes(19, k);
      if (value != null) {
        b.putBytes(19 + k.length, value);
      }
      UnsafeBuffer hk = scratch.histKey;
      hk.putLong(0, rev, BE);
      hk.putInt(8, seq++, BE);
      hist.put(txn, hk, scratch.valueView(len));
      changes.add(new ChangeEvent(key, value, rev, create, leaseId));
    }

    private long[] getLease(long leaseId) {
      return readLease(txn, scratch.longKey(leaseId));
    }

    private void putLease(long id, long ttlMillis, boolean keyLease) {
      UnsafeBuffer v = scratch.leaseVal;
      v.putLong(0, ttlMillis, BE);
      v.putByte(8, keyLease ? KEY_LEASE : 0);
      lease.put(txn, scratch.longKey(id), v);
      leaseEvents.add(new LeaseEvent(id, ttlMillis, LeaseEvent.Kind.GRANTED));
    }

    private List<byte[]> leaseKeyList(long leaseId) {
      List<byte[]> keys = new ArrayList<>();
      try (Cursor<DirectBuffer> c = leaseKeys.openCursor(txn)) {
        if (c.get(scratch.longKey(leaseId), GetOp.MDB_SET_KEY)) {
          do {
            keys.add(copy(c.val()));
          } while (c.seek(SeekOp.MDB_NEXT_DUP));
        }
      }
      return keys;
    }

    private long trimHistory() {
      long excess = hist.stat(txn).entries - options.historySize();
      if (excess > 0) {
        try (Cursor<DirectBuffer> c = hist.openCursor(txn)) {
          for (long i = 0; i < excess && c.first(); i++) {
            floor = c.key().getLong(0, BE);
            c.delete();
          }
        }
      }
      return floor;
    }
  }

  /** Buffers reused by the apply thread. */
  private static final class WriteScratch {
    final UnsafeBuffer keyBuf = new UnsafeBuffer(ByteBuffer.allocateDirect(1024));
    final UnsafeBuffer keyView = new UnsafeBuffer(0, 0);
    final UnsafeBuffer keyBuf2 = new UnsafeBuffer(ByteBuffer.allocateDirect(1024));
    final UnsafeBuffer longBuf = new UnsafeBuffer(ByteBuffer.allocateDirect(8));
    final UnsafeBuffer histKey = new UnsafeBuffer(ByteBuffer.allocateDirect(12));
    final UnsafeBuffer leaseVal = new UnsafeBuffer(ByteBuffer.allocateDirect(9));
    final UnsafeBuffer metaVal = new UnsafeBuffer(ByteBuffer.allocateDirect(24));
    final ExpandableDirectByteBuffer value = new ExpandableDirectByteBuffer(4096);
    final UnsafeBuffer valueView = new UnsafeBuffer(0, 0);

    DirectBuffer key(byte[] k) {
      keyBuf.putBytes(0, k);
      keyView.wrap(keyBuf, 0, k.length);
      return keyView;
    }

    DirectBuffer longKey(long v) {
      longBuf.putLong(0, v, BE);
      return longBuf;
    }

    DirectBuffer valueView(int length) {
      valueView.wrap(value.addressOffset(), length);
      return valueView;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Reading

  @Override
  public <T> T read(Function<ReadView, T> fn) {
    Objects.requireNonNull(fn, "fn");
    // Bounds the read transactions alive at once below LMDB's reader table size, so that a burst
    // of readers waits briefly instead of failing with MDB_READERS_FULL.
    readPermits.acquireUninterruptibly();
    gate.readLock().lock();
    try {
      requireOpen();
      ReadSlot slot = readSlots.poll();
      try {
        if (slot == null) {
          slot = new ReadSlot(env.txnRead());
        } else {
          slot.txn.renew();
        }
      } catch (LmdbException e) {
        throw LmdbErrors.map("begin a read transaction", dir, e);
      }
      try {
        return fn.apply(slot);
      } catch (LmdbException e) {
        throw LmdbErrors.map("read", dir, e);
      } finally {
        slot.txn.reset();
        if (!readSlots.offer(slot)) {
          release(slot);
        }
      }
    } finally {
      gate.readLock().unlock();
      readPermits.release();
    }
  }

  /**
   * Frees a pooled read transaction and its reader slot. lmdbjava's {@code Txn.close()} does not
   * abort a RESET transaction (its reader slot would leak), so renew it first.
   */
  private static void release(ReadSlot slot) {
    try {
      slot.txn.renew();
    } catch (LmdbException | IllegalStateException e) {
      // Could not renew: closing below frees what lmdbjava can.
    }
    slot.txn.close();
  }

  /** A pooled read transaction with its scratch buffers; also the {@link ReadView}. */
  private final class ReadSlot implements ReadView {
    final Txn<DirectBuffer> txn;
    final UnsafeBuffer keyBuf = new UnsafeBuffer(ByteBuffer.allocateDirect(1024));
    final UnsafeBuffer keyView = new UnsafeBuffer(0, 0);
    final UnsafeBuffer longBuf = new UnsafeBuffer(ByteBuffer.allocateDirect(12));

    ReadSlot(Txn<DirectBuffer> txn) {
      this.txn = txn;
    }

    @Override
    public KvEntry get(String key) {
      byte[] k = utf8(key);
      if (k.length == 0 || k.length > MAX_KEY_BYTES) {
        return null;
      }
      keyBuf.putBytes(0, k);
      keyView.wrap(keyBuf, 0, k.length);
      DirectBuffer v = kv.get(txn, keyView);
      return v == null ? null : decodeEntry(key, v);
    }

    @Override
    public List<KvEntry> listPrefix(String prefix) {
      byte[] p = utf8(prefix);
      if (p.length > MAX_KEY_BYTES) {
        return List.of();
      }
      return scanPrefix(txn, p, keyBuf);
    }

    @Override
    public long revision() {
      return readMeta(txn)[1];
    }

    @Override
    public long appliedIndex() {
      return readMeta(txn)[0];
    }

    @Override
    public long historyFloor() {
      return readMeta(txn)[2];
    }

    @Override
    public HistoryPage changesAfter(long afterRevision, int maxChanges) {
      long[] m = readMeta(txn);
      if (afterRevision < m[2]) {
        throw new HistoryCompactedException(null, afterRevision, m[2] + 1);
      }
      if (afterRevision >= m[1]) {
        return new HistoryPage(List.of(), Math.max(afterRevision, m[1]));
      }
      List<ChangeEvent> out = new ArrayList<>();
      long scannedTo = m[1];
      try (Cursor<DirectBuffer> c = hist.openCursor(txn)) {
        longBuf.putLong(0, afterRevision + 1, BE);
        longBuf.putInt(8, 0, BE);
        if (c.get(longBuf, GetOp.MDB_SET_RANGE)) {
          do {
            long rev = c.key().getLong(0, BE);
            if (out.size() >= maxChanges && rev != out.get(out.size() - 1).revision()) {
              scannedTo = out.get(out.size() - 1).revision();
              break;
            }
            out.add(decodeHistory(rev, c.val()));
          } while (c.next());
        }
      }
      return new HistoryPage(out, scannedTo);
    }

    @Override
    public List<LeaseInfo> leases() {
      List<LeaseInfo> out = new ArrayList<>();
      try (Cursor<DirectBuffer> c = lease.openCursor(txn)) {
        if (c.first()) {
          do {
            DirectBuffer v = c.val();
            out.add(
                new LeaseInfo(c.key().getLong(0, BE), v.getLong(0, BE), v.getByte(8) == KEY_LEASE));
          } while (c.next());
        }
      }
      return out;
    }
  }

  private List<KvEntry> scanPrefix(Txn<DirectBuffer> txn, byte[] prefix, UnsafeBuffer scratchBuf) {
    List<KvEntry> out = new ArrayList<>();
    if (prefix.length > MAX_KEY_BYTES) {
      // No key is longer than LMDB's limit, and LMDB refuses such a search key outright.
      return out;
    }
    UnsafeBuffer view = new UnsafeBuffer(0, 0);
    try (Cursor<DirectBuffer> c = kv.openCursor(txn)) {
      boolean found;
      if (prefix.length == 0) {
        found = c.first();
      } else {
        scratchBuf.putBytes(0, prefix);
        view.wrap(scratchBuf, 0, prefix.length);
        found = c.get(view, GetOp.MDB_SET_RANGE);
      }
      while (found) {
        DirectBuffer k = c.key();
        if (!startsWith(k, prefix)) {
          break;
        }
        byte[] kb = copy(k);
        out.add(decodeEntry(new String(kb, StandardCharsets.UTF_8), c.val()));
        found = c.next();
      }
    }
    return out;
  }

  private KvEntry getEntry(Txn<DirectBuffer> txn, byte[] k, String key) {
    DirectBuffer v = kv.get(txn, scratch.key(k));
    return v == null ? null : decodeEntry(key, v);
  }

  private long[] readLease(Txn<DirectBuffer> txn, DirectBuffer id) {
    DirectBuffer v = lease.get(txn, id);
    return v == null ? null : new long[] {v.getLong(0, BE), v.getByte(8)};
  }

  private static KvEntry decodeEntry(String key, DirectBuffer v) {
    byte[] value = new byte[v.capacity() - 24];
    v.getBytes(24, value);
    return new KvEntry(key, value, v.getLong(0, BE), v.getLong(8, BE), v.getLong(16, BE));
  }

  private static ChangeEvent decodeHistory(long rev, DirectBuffer v) {
    boolean deleted = v.getByte(0) == 1;
    long create = v.getLong(1, BE);
    long leaseId = v.getLong(9, BE);
    int klen = v.getShort(17, BE) & 0xffff;
    byte[] k = new byte[klen];
    v.getBytes(19, k);
    byte[] value = null;
    if (!deleted) {
      value = new byte[v.capacity() - 19 - klen];
      v.getBytes(19 + klen, value);
    }
    return new ChangeEvent(new String(k, StandardCharsets.UTF_8), value, rev, create, leaseId);
  }

  private long[] readMeta(Txn<DirectBuffer> txn) {
    return readMeta(meta, txn);
  }

  private static long[] readMeta(Dbi<DirectBuffer> metaDbi, Txn<DirectBuffer> txn) {
    DirectBuffer v = metaDbi.get(txn, META_KEY_BUF.get());
    if (v == null) {
      return new long[3];
    }
    return new long[] {v.getLong(0, BE), v.getLong(8, BE), v.getLong(16, BE)};
  }

  private static AccessRules readAccessRules(Dbi<DirectBuffer> metaDbi, Txn<DirectBuffer> txn) {
    DirectBuffer v = metaDbi.get(txn, direct(ACCESS_KEY));
    if (v == null || v.capacity() < 8) {
      return AccessRules.NONE;
    }
    byte[] rules = new byte[v.capacity() - 8];
    v.getBytes(8, rules);
    return new AccessRules(v.getLong(0, BE), rules);
  }

  /** The format version an environment records, 0 if none. */
  private static int readFormat(Dbi<DirectBuffer> metaDbi, Txn<DirectBuffer> txn) {
    DirectBuffer v = metaDbi.get(txn, direct(FORMAT_KEY));
    return v == null || v.capacity() < 4 ? 0 : v.getInt(0, BE);
  }

  /**
   * Refuses an environment or snapshot of a newer format than this engine reads.
   *
   * @throws StoreException naming both versions and what to do
   */
  static void checkFormat(int found, Path where) {
    if (found > FORMAT_VERSION) {
      throw new StoreException(
          where
              + " holds libkv data in format version "
              + found
              + ", this build reads version "
              + FORMAT_VERSION
              + " and older only: use the release that wrote it, or a newer one. Nothing was"
              + " changed.");
    }
  }

  private static UnsafeBuffer direct(byte[] bytes) {
    UnsafeBuffer b = new UnsafeBuffer(ByteBuffer.allocateDirect(bytes.length));
    b.putBytes(0, bytes);
    return b;
  }

  private static UnsafeBuffer direct(ByteBuffer heap) {
    return direct(heap.array());
  }

  private void writeMeta(Txn<DirectBuffer> txn, long applied, long last, long floor) {
    UnsafeBuffer v = scratch.metaVal;
    v.putLong(0, applied, BE);
    v.putLong(8, last, BE);
    v.putLong(16, floor, BE);
    meta.put(txn, META_KEY_BUF.get(), v);
  }

  // A direct buffer per thread: lmdbjava hands buffers' addresses to LMDB.
  private static final ThreadLocal<UnsafeBuffer> META_KEY_BUF =
      ThreadLocal.withInitial(
          () -> {
            UnsafeBuffer b = new UnsafeBuffer(ByteBuffer.allocateDirect(META_KEY.length));
            b.putBytes(0, META_KEY);
            return b;
          });

  private static boolean startsWith(DirectBuffer k, byte[] prefix) {
    if (k.capacity() < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (k.getByte(i) != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static byte[] copy(DirectBuffer b) {
    byte[] out = new byte[b.capacity()];
    b.getBytes(0, out);
    return out;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Keys of user commands must be normalised user keys: a raw log entry (a hostile or buggy client)
   * must neither break the list/deleteTree invariants nor forge internal lock-queue keys.
   * Deterministic, so every replica rejects alike.
   */
  private static String checkUserKey(String key, byte[] k) {
    String bad = checkKey(key, k);
    if (bad != null) {
      return bad;
    }
    if (key.startsWith(INTERNAL_PREFIX)) {
      return "internal keys cannot be written by user commands";
    }
    try {
      if (!Keys.normalize(key).equals(key)) {
        return "key is not in normal form (leading or trailing '/'): \"" + key + "\"";
      }
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
    return null;
  }

  private static String checkKey(String key, byte[] k) {
    if (k.length == 0) {
      return "key must not be empty";
    }
    if (k.length > MAX_KEY_BYTES) {
      return "key is "
          + k.length
          + " bytes in UTF-8, over the limit of "
          + MAX_KEY_BYTES
          + " bytes";
    }
    return null;
  }

  // ------------------------------------------------------------------------------------------
  // Snapshots

  /**
   * Writes a compacted copy of the environment ({@code MDB_CP_COMPACT}) as {@code data.mdb} into
   * the directory {@code target} (created if absent; must be empty), and returns the applied index
   * and last revision stored INSIDE the copy (read back from it, so they match its contents even if
   * a write committed during the copy).
   *
   * @throws IllegalArgumentException if {@code target} exists and is not an empty directory
   */
  public SnapshotInfo snapshotTo(Path target) {
    Objects.requireNonNull(target, "target");
    try {
      OwnerOnly.createDirectories(target);
      try (Stream<Path> s = Files.list(target)) {
        if (s.findAny().isPresent()) {
          throw new IllegalArgumentException("snapshot target is not empty: " + target);
        }
      }
    } catch (IOException e) {
      throw new StoreException("Cannot prepare snapshot directory " + target + ": " + e, e);
    }
    gate.readLock().lock();
    try {
      requireOpen();
      env.copy(target.toFile(), CopyFlags.MDB_CP_COMPACT);
    } catch (LmdbException e) {
      throw LmdbErrors.map("copy a snapshot to " + target, dir, e);
    } finally {
      gate.readLock().unlock();
    }
    try {
      // LMDB creates the copy with 0666 less the umask; it holds every key and value.
      OwnerOnly.restrictFile(target.resolve("data.mdb"));
    } catch (IOException e) {
      throw new StoreException("Cannot restrict snapshot " + target + " to its owner: " + e, e);
    }
    return inspectSnapshot(target);
  }

  /**
   * Returns the applied index and last revision stored in a snapshot directory made by {@link
   * #snapshotTo}.
   *
   * @throws StoreException if it is not a readable engine snapshot
   */
  public static SnapshotInfo inspectSnapshot(Path snapshotDir) {
    JvmAccess.requireNioAccess("libkv LMDB engine");
    if (!Files.isRegularFile(snapshotDir.resolve("data.mdb"))) {
      throw new StoreException("Not an engine snapshot (no data.mdb): " + snapshotDir);
    }
    try (Env<DirectBuffer> e =
        Env.create(DirectBufferProxy.PROXY_DB)
            .setMaxDbs(8)
            .open(snapshotDir.toFile(), EnvFlags.MDB_RDONLY_ENV, EnvFlags.MDB_NOLOCK)) {
      long[] m = new long[3];
      boolean hasMeta =
          e.getDbiNames().stream()
              .anyMatch(n -> new String(n, StandardCharsets.UTF_8).equals("meta"));
      if (hasMeta) {
        Dbi<DirectBuffer> md = e.openDbi("meta");
        try (Txn<DirectBuffer> txn = e.txnRead()) {
          checkFormat(readFormat(md, txn), snapshotDir);
          m = readMeta(md, txn);
        }
      }
      return new SnapshotInfo(snapshotDir, m[0], m[1]);
    } catch (LmdbException ex) {
      throw LmdbErrors.map("read the snapshot", snapshotDir, ex);
    }
  }

  /**
   * Replaces the engine's contents with a snapshot made by {@link #snapshotTo} (the Raft follower's
   * install-snapshot). Must not run concurrently with {@link #apply}; concurrent readers wait.
   * Listeners get {@link ApplyListener#onRestored}.
   *
   * @return what the engine holds now
   * @throws StoreException if the snapshot cannot be read or installed
   */
  public SnapshotInfo restoreFrom(Path snapshotDir) {
    SnapshotInfo info = inspectSnapshot(snapshotDir);
    gate.writeLock().lock();
    try {
      requireOpen();
      closeEnv();
      Path tmp = dir.resolve("data.mdb.restore");
      Files.copy(snapshotDir.resolve("data.mdb"), tmp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(
          tmp,
          dir.resolve("data.mdb"),
          StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
      openEnv();
    } catch (IOException e) {
      openEnv();
      throw new StoreException("Cannot restore " + dir + " from " + snapshotDir + ": " + e, e);
    } finally {
      gate.writeLock().unlock();
    }
    for (ApplyListener l : listeners) {
      try {
        l.onRestored(appliedIndex, lastRevision);
      } catch (RuntimeException e) {
        LOG.warn("ApplyListener " + l + " failed", e);
      }
    }
    return new SnapshotInfo(dir, info.appliedIndex(), info.lastRevision());
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  private void openEnv() {
    try {
      File f = dir.toFile();
      EnvFlags[] flags =
          options.sync()
              ? new EnvFlags[] {EnvFlags.MDB_NOTLS}
              : new EnvFlags[] {EnvFlags.MDB_NOTLS, EnvFlags.MDB_NOSYNC};
      long mapSize = options.initialMapSizeBytes();
      Path data = dir.resolve("data.mdb");
      if (Files.exists(data)) {
        mapSize = Math.max(mapSize, Files.size(data));
      }
      env =
          Env.create(DirectBufferProxy.PROXY_DB)
              .setMapSize(mapSize)
              .setMaxDbs(8)
              .setMaxReaders(options.maxReaders())
              .open(f, OwnerOnly.LMDB_FILE_MODE, flags);
      kv = env.openDbi("kv", DbiFlags.MDB_CREATE);
      hist = env.openDbi("hist", DbiFlags.MDB_CREATE);
      lease = env.openDbi("lease", DbiFlags.MDB_CREATE);
      leaseKeys = env.openDbi("leasekeys", DbiFlags.MDB_CREATE, DbiFlags.MDB_DUPSORT);
      meta = env.openDbi("meta", DbiFlags.MDB_CREATE);
      sessions = new ClientSessions(env.openDbi("sessions", DbiFlags.MDB_CREATE));
      int format;
      try (Txn<DirectBuffer> txn = env.txnRead()) {
        format = readFormat(meta, txn);
        long[] m = readMeta(txn);
        appliedIndex = m[0];
        lastRevision = m[1];
        accessRules = readAccessRules(meta, txn);
      }
      try {
        checkFormat(format, dir);
      } catch (StoreException newer) {
        env.close();
        env = null;
        throw newer;
      }
      if (format == 0) {
        try (Txn<DirectBuffer> txn = env.txnWrite()) {
          meta.put(txn, direct(FORMAT_KEY), direct(ByteBuffer.allocate(4).putInt(FORMAT_VERSION)));
          txn.commit();
        }
      }
    } catch (LmdbException | IOException e) {
      if (env != null) {
        env.close();
      }
      throw new StoreException("Cannot open the LMDB environment in " + dir + ": " + e, e);
    }
  }

  private void closeEnv() {
    ReadSlot s;
    while ((s = readSlots.poll()) != null) {
      release(s);
    }
    env.close();
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("engine closed: " + dir);
    }
  }

  /**
   * Releases one reference; the last closes the LMDB environment. Does nothing once the environment
   * is closed.
   */
  @Override
  public void close() {
    // The last release closes under the registry's lock, so that a concurrent open of the same
    // directory waits for the old environment to be closed (LMDB must not open one environment
    // twice in a process).
    OPEN.release(dir, this, KvEngine::closeLast);
  }

  private void closeLast() {
    gate.writeLock().lock();
    try {
      closed = true;
      closeEnv();
    } finally {
      gate.writeLock().unlock();
    }
  }

  /** Whether the environment was closed (the last reference released). */
  public boolean isClosed() {
    return closed;
  }

  @Override
  public String toString() {
    return "KvEngine[" + dir + ", applied=" + appliedIndex + ", revision=" + lastRevision + "]";
  }
}
