package io.libkv.storage.engine;

import io.libkv.spi.Keys;
import io.libkv.spi.WatchQueue;
import io.libkv.store.AsyncStore;
import io.libkv.store.Config;
import io.libkv.store.HistoryCompactedException;
import io.libkv.store.KVPair;
import io.libkv.store.KeyModifiedException;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.PreviousNotSpecifiedException;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import io.libkv.store.WriteOptions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every {@link Store} semantic of the contract, written once over three pieces a backend supplies:
 * a {@link CommandSubmitter} (writes), a {@link KvReader} (reads) and the {@link WatchHub} of the
 * engine whose changes this store sees.
 *
 * <ul>
 *   <li>Keys are normalised and values checked here ({@link IllegalArgumentException}, nothing
 *       submitted).
 *   <li>A put with a TTL attaches the key to its own lease; the {@link LeaseReaper} in charge
 *       revokes it when the TTL passes (TTLs are rounded up to whole milliseconds).
 *   <li>{@code watch(key, afterIndex)} replays the engine's bounded history; asking for more than
 *       it holds throws {@link HistoryCompactedException}, naming the oldest revision available.
 *   <li>Locks follow etcd's mutex: a lease renewed every ttl/3, a waiter key in an internal queue
 *       (ordered by revision), each waiter waiting only for its predecessor's deletion; the holder
 *       writes the lock's key attached to its lease; the fencing token is the waiter's revision.
 * </ul>
 *
 * <p>An {@link AsyncStore}: every key/value write is submitted at once on the caller's thread, so
 * writes reach the {@link CommandSubmitter} (and through it the engine) in call order; the blocking
 * calls wait for their async form. {@link #close()} fails writes still pending with a {@link
 * StoreException} (their outcome is unknown).
 *
 * <p>Several stores may share one engine and hub (several clients of one data directory, or one
 * Raft member); each owns its watches, locks and renewal thread, released by {@link #close()}, and
 * runs {@code onClose} last. Thread-safe.
 */
public final class EngineStore implements AsyncStore {
  private static final Logger LOG = LoggerFactory.getLogger(EngineStore.class);
  private static final int KEY_WATCH_CAPACITY = 256;
  // A resumed watch must not coalesce its replay: room for a whole default-sized history.
  private static final int RESUMED_WATCH_CAPACITY = EngineOptions.DEFAULT_HISTORY_SIZE + 1024;
  private static final int TREE_WATCH_CAPACITY = 16;
  private static final Duration REGISTRATION_TIMEOUT = Duration.ofSeconds(30);

  private final String name;
  private final CommandSubmitter submitter;
  private final KvReader reader;
  private final WatchHub hub;
  private final int maxValueBytes;
  private final Consumer<? super EngineStore> onClose;
  private final Set<Watch<?>> watches = ConcurrentHashMap.newKeySet();
  private final Set<EngineLocker.Held> held = ConcurrentHashMap.newKeySet();
  private final Set<CompletableFuture<?>> waits = ConcurrentHashMap.newKeySet();
  private final Set<CompletableFuture<?>> pendingWrites = ConcurrentHashMap.newKeySet();
  private final Object schedulerLock = new Object();
  private ScheduledThreadPoolExecutor scheduler; // guarded by schedulerLock
  private volatile Thread schedulerThread;
  private volatile boolean closed;

  /**
   * Creates a store.
   *
   * @param name for thread names and messages (e.g. the data directory or node id)
   * @param submitter the write path
   * @param reader the read path (linearizable for Raft)
   * @param hub the change fan-out of the engine this store's writes land in
   * @param config the store's configuration ({@link Config#maxValueBytes()} is used here)
   * @param onClose given this store once, last, by {@link #close()} (to release the engine
   *     reference, or forget the store)
   */
  public EngineStore(
      String name,
      CommandSubmitter submitter,
      KvReader reader,
      WatchHub hub,
      Config config,
      Consumer<? super EngineStore> onClose) {
    this.name = Objects.requireNonNull(name, "name");
    this.submitter = Objects.requireNonNull(submitter, "submitter");
    this.reader = Objects.requireNonNull(reader, "reader");
    this.hub = Objects.requireNonNull(hub, "hub");
    this.maxValueBytes = Config.orDefaults(config).maxValueBytes();
    this.onClose = Objects.requireNonNull(onClose, "onClose");
  }

  // ---------------------------------------------------------------------------------- key/value

  @Override
  public void put(String key, byte[] value, WriteOptions options) {
    await(putAsync(key, value, options), "put", key);
  }

  @Override
  public CompletableFuture<KVPair> putAsync(String key, byte[] value, WriteOptions options) {
    String k = Keys.normalize(key);
    Keys.checkValue(value, maxValueBytes);
    long ttl = ttlMillis(WriteOptions.orNone(options));
    // A copy: the caller may reuse its array once this returns, before the write is encoded.
    byte[] v = value.clone();
    return write(new Command.Put(k, v, 0, ttl), r -> written(k, v, r));
  }

  @Override
  public KVPair get(String key) {
    String k = Keys.normalize(key);
    KvEntry e = read(v -> v.get(k));
    if (e == null) {
      throw new KeyNotFoundException(k);
    }
    return e.toPair();
  }

  @Override
  public void delete(String key) {
    await(deleteAsync(key), "delete", key);
  }

  @Override
  public CompletableFuture<Void> deleteAsync(String key) {
    String k = Keys.normalize(key);
    return write(new Command.Delete(k), r -> null);
  }

  @Override
  public boolean exists(String key) {
    String k = Keys.normalize(key);
    return read(v -> v.get(k)) != null;
  }

  @Override
  public List<KVPair> list(String directory) {
    String d = Keys.normalizeDirectory(directory);
    DirectoryListing listing = read(v -> v.listDirectory(d));
    if (!listing.exists()) {
      throw new KeyNotFoundException(d);
    }
    List<KVPair> pairs = new ArrayList<>(listing.children().size());
    for (KvEntry e : listing.children()) {
      pairs.add(e.toPair());
    }
    return pairs;
  }

  @Override
  public void deleteTree(String directory) {
    String d = Keys.normalizeDirectory(directory);
    await(write(new Command.DeleteTree(d), r -> null), "deleteTree", d);
  }

  @Override
  public KVPair atomicPut(String key, byte[] value, KVPair previous, WriteOptions options) {
    return await(atomicPutAsync(key, value, previous, options), "atomicPut", key);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: a {@code previous} pair without a positive index (which no store returns) is answered
   * by a read before the call returns, without submitting anything.
   */
  @Override
  public CompletableFuture<KVPair> atomicPutAsync(
      String key, byte[] value, KVPair previous, WriteOptions options) {
    String k = Keys.normalize(key);
    Keys.checkValue(value, maxValueBytes);
    long ttl = ttlMillis(WriteOptions.orNone(options));
    long expected = 0;
    if (previous != null) {
      expected = previous.lastIndex();
      if (expected <= 0) {
        return staleIndex(k, expected);
      }
    }
    byte[] v = value.clone();
    return write(new Command.CasPut(k, v, expected, 0, ttl), r -> written(k, v, r));
  }

  @Override
  public boolean atomicDelete(String key, KVPair previous) {
    return await(atomicDeleteAsync(key, previous), "atomicDelete", key);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: a {@code previous} pair without a positive index (which no store returns) is answered
   * by a read before the call returns, without submitting anything.
   */
  @Override
  public CompletableFuture<Boolean> atomicDeleteAsync(String key, KVPair previous) {
    String k = Keys.normalize(key);
    if (previous == null) {
      throw new PreviousNotSpecifiedException(k);
    }
    if (previous.lastIndex() <= 0) {
      return staleIndex(k, previous.lastIndex());
    }
    return write(new Command.CasDelete(k, previous.lastIndex()), r -> Boolean.TRUE);
  }

  /** The error of a compare against an index no write ever had: the key is missing or moved on. */
  /** The pair a successful put stored: what the writer sent, at the revision of the result. */
  private static KVPair written(String key, byte[] value, CommandResult r) {
    return new KVPair(key, value, ((CommandResult.Written) r).revision());
  }

  private <T> CompletableFuture<T> staleIndex(String k, long expected) {
    try {
      KvEntry now = read(v -> v.get(k));
      return CompletableFuture.failedFuture(
          now == null
              ? new KeyNotFoundException(k)
              : new KeyModifiedException(k, expected, now.modRevision()));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * The one write path of the key/value calls: submits at once (so writes reach the submitter in
   * call order), maps a domain error to its exception, and is failed by {@link #close()} if still
   * pending then.
   */
  private <T> CompletableFuture<T> write(
      Command c, java.util.function.Function<CommandResult, T> onOk) {
    CompletableFuture<T> out = new CompletableFuture<>();
    if (closed) {
      out.completeExceptionally(new StoreException("Store closed: " + name));
      return out;
    }
    pendingWrites.add(out);
    CompletableFuture<CommandResult> f;
    try {
      f = submitter.submit(c);
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete(
        (r, e) -> {
          pendingWrites.remove(out);
          if (e != null) {
            out.completeExceptionally(asStoreError(e, "apply " + c));
          } else if (!r.isOk()) {
            out.completeExceptionally(r.toException());
          } else {
            try {
              out.complete(onOk.apply(r));
            } catch (RuntimeException x) {
              out.completeExceptionally(x);
            }
          }
        });
    if (closed) {
      // close() may have run between the check above and the registration.
      out.completeExceptionally(new StoreException("Store closed: " + name));
    }
    return out;
  }

  /** Waits for an async write; its failure is rethrown as the exception itself. */
  private <T> T await(CompletableFuture<T> f, String call, String key) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(
          "Interrupted while waiting for "
              + call
              + " of "
              + key
              + "; it may still be applied ("
              + name
              + ")",
          e);
    } catch (ExecutionException e) {
      throw rethrow(e.getCause(), call + " " + key);
    }
  }

  private static long ttlMillis(WriteOptions o) {
    if (!o.hasTtl()) {
      return 0;
    }
    Duration ttl = o.ttl();
    long ms = ttl.toMillis();
    return ttl.minusMillis(ms).isZero() ? Math.max(1, ms) : ms + 1;
  }

  // ------------------------------------------------------------------------------------ watches

  @Override
  public Watch<KVPair> watch(String key) {
    String k = Keys.normalize(key);
    return keyWatch(k, -1);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: the replay comes from the engine's bounded history (see {@link
   * EngineOptions#historySize()}) and is never coalesced (up to the default history size); live
   * changes after it may be coalesced for a slow reader like any watch.
   *
   * @throws HistoryCompactedException if the history no longer reaches back to {@code afterIndex}
   */
  @Override
  public Watch<KVPair> watch(String key, long afterIndex) {
    String k = Keys.normalize(key);
    if (afterIndex < 0) {
      throw new IllegalArgumentException("afterIndex must not be negative, was " + afterIndex);
    }
    try {
      return keyWatch(k, afterIndex);
    } catch (HistoryCompactedException e) {
      // The history read behind the watch serves every key: name the one watched.
      throw e.key() != null
          ? e
          : new HistoryCompactedException(k, e.requestedAfter(), e.oldestAvailable(), e);
    }
  }

  private Watch<KVPair> keyWatch(String k, long afterIndex) {
    requireOpen();
    int capacity = afterIndex < 0 ? KEY_WATCH_CAPACITY : RESUMED_WATCH_CAPACITY;
    if (hub.hasBroadcast()) {
      return open(new BroadcastWatch.Key(hub, k, afterIndex, capacity, this::forget));
    }
    Subscriptions.KeyWatch sub = new Subscriptions.KeyWatch(k, afterIndex, capacity, this::release);
    register(sub, sub.queue);
    return sub.queue;
  }

  @Override
  public Watch<List<KVPair>> watchTree(String directory) {
    String d = Keys.normalizeDirectory(directory);
    requireOpen();
    if (hub.hasBroadcast()) {
      return open(new BroadcastWatch.Tree(hub, d, TREE_WATCH_CAPACITY, this::forget));
    }
    Subscriptions.TreeWatch sub =
        new Subscriptions.TreeWatch(d, TREE_WATCH_CAPACITY, this::release);
    register(sub, sub.queue);
    return sub.queue;
  }

  /**
   * Starts a broadcast watch at the reader's revision (linearizable for Raft): waits until the
   * local engine has applied it, so the first state is at least that new.
   */
  private <W extends BroadcastWatch<?>> W open(W w) {
    watches.add(w);
    hub.opened(w);
    try {
      long min = read(ReadView::revision);
      if (hub.localRevision() < min) {
        Subscriptions.Barrier b = new Subscriptions.Barrier();
        try {
          awaitRegistration(hub.subscribe(b, min));
        } finally {
          hub.unsubscribe(b);
        }
      }
      w.start();
    } catch (RuntimeException e) {
      w.close();
      throw e;
    }
    if (closed) {
      w.close();
    }
    return w;
  }

  private void forget(BroadcastWatch<?> w) {
    hub.closed(w);
    watches.remove(w);
  }

  private void register(WatchHub.Subscription sub, WatchQueue<?> q) {
    watches.add(q);
    try {
      // The reader's revision (linearizable for Raft) is where the watch's first state must be.
      long min = read(ReadView::revision);
      awaitRegistration(hub.subscribe(sub, min));
    } catch (RuntimeException e) {
      q.close();
      throw e;
    }
    if (closed) {
      q.close();
    }
  }

  private void release(WatchHub.Subscription sub) {
    hub.unsubscribe(sub);
    if (sub instanceof Subscriptions.KeyWatch kw) {
      watches.remove(kw.queue);
    } else if (sub instanceof Subscriptions.TreeWatch tw) {
      watches.remove(tw.queue);
    }
  }

  private void awaitRegistration(CompletableFuture<Void> started) {
    try {
      started.get(REGISTRATION_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("Interrupted while starting a watch", e);
    } catch (TimeoutException e) {
      throw new StoreException(
          "Watch did not start within " + REGISTRATION_TIMEOUT + " (" + name + ")", e);
    } catch (ExecutionException e) {
      throw rethrow(e.getCause(), "start a watch");
    }
  }

  /**
   * Waits, on the hub, until {@code key} is deleted after {@code afterRevision}; the key must exist
   * at that revision and never be re-created (a lock's waiter key).
   */
  Subscriptions.DeletionWait awaitDeletion(String key, long afterRevision) {
    Subscriptions.DeletionWait w = new Subscriptions.DeletionWait(key);
    awaitRegistration(hub.subscribe(w, afterRevision));
    return w;
  }

  void cancel(WatchHub.Subscription sub) {
    hub.unsubscribe(sub);
  }

  // -------------------------------------------------------------------------------------- locks

  @Override
  public Locker newLock(String key, LockOptions options) {
    String k = Keys.normalize(key);
    requireOpen();
    return new EngineLocker(this, k, queuePrefix(k), LockOptions.orDefaults(options));
  }

  /** The internal queue prefix of a lock; long keys are hashed to fit LMDB's key limit. */
  static String queuePrefix(String lockKey) {
    String id = lockKey;
    if (Keys.utf8Length(lockKey) > 400) {
      try {
        byte[] h = MessageDigest.getInstance("SHA-256").digest(Keys.utf8(lockKey));
        id = "#" + HexFormat.of().formatHex(h);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 missing", e);
      }
    }
    return KvEngine.INTERNAL_PREFIX + "lock/" + id + KvEngine.INTERNAL_PREFIX;
  }

  void own(EngineLocker.Held h) {
    held.add(h);
    if (closed) {
      h.release();
    }
  }

  void disown(EngineLocker.Held h) {
    held.remove(h);
  }

  ScheduledThreadPoolExecutor scheduler() {
    synchronized (schedulerLock) {
      requireOpen();
      if (scheduler == null) {
        scheduler =
            new ScheduledThreadPoolExecutor(
                1,
                r -> {
                  Thread t = new Thread(r, "libkv-lease-renew-" + name);
                  t.setDaemon(true);
                  schedulerThread = t;
                  return t;
                });
        scheduler.setRemoveOnCancelPolicy(true);
      }
      return scheduler;
    }
  }

  /** Tracks a future a caller blocks on, so that close() can wake it. */
  <T extends CompletableFuture<?>> T track(T f) {
    waits.add(f);
    if (closed) {
      f.completeExceptionally(new StoreException("Store closed: " + name));
    }
    return f;
  }

  void untrack(CompletableFuture<?> f) {
    waits.remove(f);
  }

  // ---------------------------------------------------------------------------------- plumbing

  CompletableFuture<CommandResult> submitAsync(Command c) {
    requireOpen();
    return submitter.submit(c);
  }

  CommandResult submit(Command c) {
    CompletableFuture<CommandResult> f = submitAsync(c);
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(
          "Interrupted while waiting for " + c + "; it may still be applied (" + name + ")", e);
    } catch (ExecutionException e) {
      throw rethrow(e.getCause(), "apply " + c);
    }
  }

  /** Waits for a result without being interruptible (cleanup paths). */
  CommandResult submitUninterruptibly(Command c) {
    try {
      return submitter.submit(c).join();
    } catch (java.util.concurrent.CompletionException e) {
      throw rethrow(e.getCause(), "apply " + c);
    }
  }

  static CommandResult expectOk(CommandResult r) {
    if (!r.isOk()) {
      throw r.toException();
    }
    return r;
  }

  <T> T read(java.util.function.Function<ReadView, T> fn) {
    requireOpen();
    return reader.read(fn);
  }

  private static RuntimeException rethrow(Throwable cause, String what) {
    if (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof StoreException se) {
      return se;
    }
    if (cause instanceof IllegalArgumentException || cause instanceof IllegalStateException) {
      return (RuntimeException) cause;
    }
    return new StoreException("Failed to " + what + ": " + cause, cause);
  }

  /** A submitter's failure as the exception a caller sees (a {@link StoreException} as is). */
  private static Throwable asStoreError(Throwable e, String what) {
    if (e instanceof java.util.concurrent.CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    return e instanceof StoreException
            || e instanceof IllegalArgumentException
            || e instanceof IllegalStateException
        ? e
        : new StoreException("Failed to " + what + ": " + e, e);
  }

  void requireOpen() {
    if (closed) {
      throw new StoreException("Store closed: " + name);
    }
  }

  boolean isClosed() {
    return closed;
  }

  String name() {
    return name;
  }

  /**
   * Closes every watch of this store, revokes the leases of its locks (releasing them at once),
   * wakes threads blocked in {@code lock()}, stops its renewal thread, then runs {@code onClose}.
   * Idempotent.
   */
  @Override
  public void close() {
    synchronized (schedulerLock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    StoreException end = new StoreException("Store closed: " + name);
    for (CompletableFuture<?> f : waits) {
      f.completeExceptionally(end);
    }
    for (CompletableFuture<?> f : pendingWrites) {
      // The outcome is unknown: the write may still be applied after this.
      f.completeExceptionally(
          new StoreException("Store closed while a write was pending; it may be applied: " + name));
    }
    for (Watch<?> w : List.copyOf(watches)) {
      w.close();
    }
    for (EngineLocker.Held h : List.copyOf(held)) {
      h.release();
    }
    ScheduledThreadPoolExecutor s;
    synchronized (schedulerLock) {
      s = scheduler;
    }
    if (s != null && Thread.currentThread() == schedulerThread) {
      // close() called from a lost() callback: the thread cannot wait for itself to end.
      s.shutdown();
    } else if (s != null) {
      s.shutdownNow();
      boolean interrupted = false;
      try {
        if (!s.awaitTermination(10, TimeUnit.SECONDS)) {
          LOG.warn("lease renewal thread of " + name + " did not stop");
        }
      } catch (InterruptedException e) {
        interrupted = true;
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    onClose.accept(this);
  }

  @Override
  public String toString() {
    return "EngineStore[" + name + "]";
  }
}
