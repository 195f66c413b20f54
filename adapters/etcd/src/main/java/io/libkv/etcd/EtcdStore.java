package io.libkv.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.DeleteResponse;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.libkv.spi.Keys;
import io.libkv.spi.WatchQueue;
import io.libkv.store.Config;
import io.libkv.store.HistoryCompactedException;
import io.libkv.store.KVPair;
import io.libkv.store.KeyExistsException;
import io.libkv.store.KeyModifiedException;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.MonotonicClock;
import io.libkv.store.PreviousNotSpecifiedException;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import io.libkv.store.WriteOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * The {@link Store} over etcd v3. Every call is one etcd request (a range, put, delete or
 * transaction), bounded by the connection timeout; see the package docs for the mapping.
 */
final class EtcdStore implements Store {
  /**
   * Lock queues live under this prefix. It starts with NUL, which {@link Keys#normalize} refuses in
   * user keys, so no user key, list, watch or deleteTree range can reach it.
   */
  static final String INTERNAL_PREFIX = "\u0000libkv/locks/";

  /** Keys in the order etcd sorts them: by UTF-8 bytes, which is code point order. */
  static final Comparator<String> KEY_ORDER = io.libkv.spi.Keys.ORDER;

  private static final int KEY_WATCH_CAPACITY = 4096;

  private final Client client;
  private final KV kv;
  private final EtcdErrors errors;
  private final Config config;
  private final ScheduledExecutorService scheduler;
  private final Set<AutoCloseable> resources = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();

  EtcdStore(Client client, EtcdErrors errors, Config config) {
    this.client = client;
    this.kv = client.getKVClient();
    this.errors = errors;
    this.config = config;
    AtomicInteger n = new AtomicInteger();
    ScheduledThreadPoolExecutor s =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "libkv-etcd-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    s.setRemoveOnCancelPolicy(true);
    this.scheduler = Executors.unconfigurableScheduledExecutorService(s);
  }

  /** Checks that the servers answer (and accept the credentials) within the timeout. */
  void probe() {
    // Listing members needs a login but no permission on any key, so it checks reachability and
    // credentials for users whose roles cover only part of the key space.
    errors.await(client.getClusterClient().listMember(), "connect");
  }

  Client client() {
    return client;
  }

  EtcdErrors errors() {
    return errors;
  }

  ScheduledExecutorService scheduler() {
    return scheduler;
  }

  MonotonicClock clock() {
    return config.clock();
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  static KVPair pair(KeyValue kv) {
    return new KVPair(
        kv.getKey().toString(StandardCharsets.UTF_8),
        kv.getValue().getBytes(),
        kv.getModRevision());
  }

  /** The lease TTL etcd is asked for: whole seconds, rounded up, at least 1. */
  static long leaseSeconds(Duration ttl) {
    long s = ttl.getSeconds() + (ttl.getNano() > 0 ? 1 : 0);
    return Math.max(1, s);
  }

  long grantLease(Duration ttl, String what) {
    return errors.await(client.getLeaseClient().grant(leaseSeconds(ttl)), what).getID();
  }

  private void revokeQuietly(long leaseId) {
    client.getLeaseClient().revoke(leaseId).exceptionally(t -> null);
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new StoreException("etcd store is closed");
    }
  }

  @Override
  public void put(String key, byte[] value, WriteOptions options) {
    String k = Keys.normalize(key);
    Keys.checkValue(value, config.maxValueBytes());
    WriteOptions o = WriteOptions.orNone(options);
    checkOpen();
    // No automatic retry: a put repeated after the caller got NotReachableException could land
    // after a newer write.
    PutOption.Builder p = PutOption.builder();
    if (o.hasTtl()) {
      p.withLeaseId(grantLease(o.ttl(), "put " + k));
    }
    errors.await(kv.put(bytes(k), ByteSequence.from(value), p.build()), "put " + k);
  }

  @Override
  public KVPair get(String key) {
    String k = Keys.normalize(key);
    checkOpen();
    GetResponse r = errors.await(kv.get(bytes(k)), "get " + k);
    if (r.getKvs().isEmpty()) {
      throw new KeyNotFoundException(k);
    }
    return pair(r.getKvs().get(0));
  }

  @Override
  public void delete(String key) {
    String k = Keys.normalize(key);
    checkOpen();
    DeleteResponse r = errors.await(kv.delete(bytes(k)), "delete " + k);
    if (r.getDeleted() == 0) {
      throw new KeyNotFoundException(k);
    }
  }

  @Override
  public boolean exists(String key) {
    String k = Keys.normalize(key);
    checkOpen();
    return errors
            .await(kv.get(bytes(k), GetOption.builder().withCountOnly(true).build()), "exists " + k)
            .getCount()
        > 0;
  }

  @Override
  public List<KVPair> list(String directory) {
    String d = Keys.normalizeDirectory(directory);
    checkOpen();
    // One read-only transaction: the children and the directory key at the same revision.
    TxnResponse r =
        errors.await(
            kv.txn()
                .Then(
                    Op.get(bytes(d + "/"), GetOption.builder().isPrefix(true).build()),
                    Op.get(bytes(d), GetOption.builder().withCountOnly(true).build()))
                .commit(),
            "list " + d);
    List<GetResponse> gets = r.getGetResponses();
    List<KeyValue> children = gets.get(0).getKvs();
    if (children.isEmpty() && gets.get(1).getCount() == 0) {
      throw new KeyNotFoundException(d);
    }
    List<KVPair> out = new ArrayList<>(children.size());
    for (KeyValue c : children) {
      out.add(pair(c));
    }
    return out;
  }

  @Override
  public void deleteTree(String directory) {
    String d = Keys.normalizeDirectory(directory);
    checkOpen();
    errors.await(
        kv.txn()
            .Then(
                Op.delete(bytes(d), DeleteOption.DEFAULT),
                Op.delete(bytes(d + "/"), DeleteOption.builder().isPrefix(true).build()))
            .commit(),
        "deleteTree " + d);
  }

  @Override
  public KVPair atomicPut(String key, byte[] value, KVPair previous, WriteOptions options) {
    String k = Keys.normalize(key);
    Keys.checkValue(value, config.maxValueBytes());
    WriteOptions o = WriteOptions.orNone(options);
    checkOpen();
    ByteSequence bk = bytes(k);
    Cmp cmp =
        previous == null
            ? new Cmp(bk, Cmp.Op.EQUAL, CmpTarget.createRevision(0))
            : new Cmp(bk, Cmp.Op.EQUAL, CmpTarget.modRevision(previous.lastIndex()));
    PutOption.Builder p = PutOption.builder();
    long lease = 0;
    if (o.hasTtl()) {
      lease = grantLease(o.ttl(), "atomicPut " + k);
      p.withLeaseId(lease);
    }
    byte[] copy = value.clone();
    TxnResponse r =
        errors.await(
            kv.txn()
                .If(cmp)
                .Then(Op.put(bk, ByteSequence.from(copy), p.build()))
                .Else(Op.get(bk, GetOption.DEFAULT))
                .commit(),
            "atomicPut " + k);
    if (r.isSucceeded()) {
      return new KVPair(k, copy, r.getHeader().getRevision());
    }
    if (lease != 0) {
      revokeQuietly(lease);
    }
    if (previous == null) {
      throw new KeyExistsException(k);
    }
    List<KeyValue> now = r.getGetResponses().get(0).getKvs();
    if (now.isEmpty()) {
      throw new KeyNotFoundException(k);
    }
    throw new KeyModifiedException(k, previous.lastIndex(), now.get(0).getModRevision());
  }

  @Override
  public boolean atomicDelete(String key, KVPair previous) {
    String k = Keys.normalize(key);
    if (previous == null) {
      throw new PreviousNotSpecifiedException(k);
    }
    checkOpen();
    ByteSequence bk = bytes(k);
    TxnResponse r =
        errors.await(
            kv.txn()
                .If(new Cmp(bk, Cmp.Op.EQUAL, CmpTarget.modRevision(previous.lastIndex())))
                .Then(Op.delete(bk, DeleteOption.DEFAULT))
                .Else(Op.get(bk, GetOption.DEFAULT))
                .commit(),
            "atomicDelete " + k);
    if (r.isSucceeded()) {
      return true;
    }
    List<KeyValue> now = r.getGetResponses().get(0).getKvs();
    if (now.isEmpty()) {
      throw new KeyNotFoundException(k);
    }
    throw new KeyModifiedException(k, previous.lastIndex(), now.get(0).getModRevision());
  }

  @Override
  public Watch<KVPair> watch(String key) {
    String k = Keys.normalize(key);
    checkOpen();
    GetResponse g = errors.await(kv.get(bytes(k)), "watch " + k);
    KVPair first = g.getKvs().isEmpty() ? null : pair(g.getKvs().get(0));
    return keyWatch(k, g.getHeader().getRevision() + 1, first);
  }

  @Override
  public Watch<KVPair> watch(String key, long afterIndex) {
    String k = Keys.normalize(key);
    if (afterIndex < 0) {
      throw new IllegalArgumentException("afterIndex must not be negative, was " + afterIndex);
    }
    checkOpen();
    checkHistory(k, afterIndex);
    return keyWatch(k, afterIndex + 1, null);
  }

  /**
   * Throws {@link HistoryCompactedException}, naming the compact revision, if etcd no longer keeps
   * the revision after {@code afterIndex}.
   */
  private void checkHistory(String k, long afterIndex) {
    String what = "watch " + k + " after index " + afterIndex;
    long current =
        errors
            .await(kv.get(bytes(k), GetOption.builder().withCountOnly(true).build()), what)
            .getHeader()
            .getRevision();
    if (afterIndex + 1 > current) {
      return;
    }
    try {
      errors.await(
          kv.get(
              bytes(k),
              GetOption.builder().withCountOnly(true).withRevision(afterIndex + 1).build()),
          what);
    } catch (StoreException e) {
      if (!EtcdErrors.isCompacted(e)) {
        throw e;
      }
      // Only a watch reports the compact revision; ask one, briefly.
      CompletableFuture<Long> compactRev = new CompletableFuture<>();
      io.etcd.jetcd.Watch.Watcher probe =
          client
              .getWatchClient()
              .watch(
                  bytes(k),
                  io.etcd.jetcd.options.WatchOption.builder().withRevision(afterIndex + 1).build(),
                  io.etcd.jetcd.Watch.listener(
                      r -> {},
                      t ->
                          compactRev.complete(
                              t instanceof io.etcd.jetcd.common.exception.CompactedException c
                                  ? c.getCompactedRevision()
                                  : -1L)));
      long rev;
      try {
        rev = errors.await(compactRev, what);
      } catch (StoreException again) {
        rev = -1;
      } finally {
        probe.close();
      }
      // etcd keeps the compact revision itself: a watch may start there.
      throw new HistoryCompactedException(k, afterIndex, rev > 0 ? rev : -1, e);
    }
  }

  private Watch<KVPair> keyWatch(String k, long fromRevision, KVPair first) {
    EtcdWatchStream stream =
        new EtcdWatchStream(this, bytes(k), false, fromRevision, "watch of key " + k);
    return watchQueue(
        "key " + k,
        KEY_WATCH_CAPACITY,
        first,
        stream,
        (q, events) -> {
          for (WatchEvent e : events) {
            KeyValue v = e.getKeyValue();
            q.offer(
                e.getEventType() == WatchEvent.EventType.DELETE
                    ? new KVPair(k, null, v.getModRevision())
                    : pair(v));
          }
        });
  }

  /**
   * A watch's queue, starting with {@code first} (if not null), registered with this store until it
   * closes (which stops {@code stream}), and fed from now on by {@code stream}: its events through
   * {@code onEvents}, called under the stream's monitor, and its failure.
   */
  private <T> WatchQueue<T> watchQueue(
      String watched,
      int capacity,
      T first,
      EtcdWatchStream stream,
      BiConsumer<WatchQueue<T>, List<WatchEvent>> onEvents) {
    WatchQueue<T> q =
        new WatchQueue<>(
            watched,
            capacity,
            self -> {
              stream.close();
              resources.remove(self);
            });
    if (first != null) {
      q.offer(first);
    }
    resources.add(q);
    stream.start(
        new EtcdWatchStream.Sink() {
          @Override
          public void onEvents(List<WatchEvent> events) {
            onEvents.accept(q, events);
          }

          @Override
          public void onFailure(StoreException failure) {
            q.fail(failure);
          }
        });
    return q;
  }

  @Override
  public Watch<List<KVPair>> watchTree(String directory) {
    String d = Keys.normalizeDirectory(directory);
    checkOpen();
    ByteSequence prefix = bytes(d + "/");
    GetResponse g =
        errors.await(kv.get(prefix, GetOption.builder().isPrefix(true).build()), "watchTree " + d);
    Map<String, KVPair> state = new TreeMap<>(KEY_ORDER);
    for (KeyValue v : g.getKvs()) {
      KVPair p = pair(v);
      state.put(p.key(), p);
    }
    EtcdWatchStream stream =
        new EtcdWatchStream(
            this, prefix, true, g.getHeader().getRevision() + 1, "watch of tree " + d);
    return watchQueue(
        "tree " + d,
        1,
        List.copyOf(state.values()),
        stream,
        (q, events) -> {
          // Called under the stream's monitor, so the state is only touched by one thread.
          for (WatchEvent e : events) {
            KVPair p = pair(e.getKeyValue());
            if (e.getEventType() == WatchEvent.EventType.DELETE) {
              state.remove(p.key());
            } else {
              state.put(p.key(), p);
            }
          }
          q.offer(List.copyOf(state.values()));
        });
  }

  @Override
  public Locker newLock(String key, LockOptions options) {
    String k = Keys.normalize(key);
    LockOptions o = LockOptions.orDefaults(options);
    Keys.checkValue(o.value(), config.maxValueBytes());
    checkOpen();
    return new EtcdLocker(this, k, o);
  }

  void register(AutoCloseable resource) {
    resources.add(resource);
    if (closed.get()) {
      closeQuietly(resource);
      throw new StoreException("etcd store is closed");
    }
  }

  void unregister(AutoCloseable resource) {
    resources.remove(resource);
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    // Revoke every lock's lease at once, and wait for them together (at most one timeout), so a
    // store with many locks closes quickly even when etcd is slow or gone.
    List<CompletableFuture<Void>> revokes = new ArrayList<>();
    for (AutoCloseable r : new ArrayList<>(resources)) {
      if (r instanceof LeaseSession session) {
        revokes.add(session.releaseAsync());
      } else {
        closeQuietly(r);
      }
    }
    resources.clear();
    try {
      CompletableFuture.allOf(revokes.toArray(new CompletableFuture<?>[0]))
          .get(errors.timeout().toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // Best effort: a lease that was not revoked expires on its own.
    }
    scheduler.shutdownNow();
    client.close();
    try {
      scheduler.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(AutoCloseable r) {
    try {
      r.close();
    } catch (Exception | LinkageError e) {
      // Closing is best effort: a lease left behind expires on its own.
    }
  }
}
