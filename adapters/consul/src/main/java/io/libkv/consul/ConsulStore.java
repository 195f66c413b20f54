package io.libkv.consul;

import io.libkv.spi.Keys;
import io.libkv.store.Backend;
import io.libkv.store.CallNotSupportedException;
import io.libkv.store.KVPair;
import io.libkv.store.KeyExistsException;
import io.libkv.store.KeyModifiedException;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.PreviousNotSpecifiedException;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import io.libkv.store.WriteOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;

/** The {@link Store} over Consul's HTTP API; see the package documentation for the mapping. */
final class ConsulStore implements Store {
  /** The root of the keys the adapter keeps for itself; never listed. */
  static final String INTERNAL_ROOT = "__libkv";

  /** Where lock queues live: {@code __libkv/locks/<lock key>/<session id>}. */
  static final String LOCK_QUEUE_ROOT = INTERNAL_ROOT + "/locks/";

  /** The {@code Flags} value that marks a key held by a TTL session of this adapter. */
  static final long TTL_FLAG = 0x6c69626b76L; // "libkv"

  /** Consul's smallest session TTL. */
  static final Duration MIN_SESSION_TTL = Duration.ofSeconds(10);

  /** Consul's largest session TTL. */
  static final Duration MAX_SESSION_TTL = Duration.ofSeconds(86_400);

  /** The smallest {@link WriteOptions#ttl()} the mapping can honour: twice the smallest session. */
  static final Duration MIN_PUT_TTL = MIN_SESSION_TTL.multipliedBy(2);

  private static final AtomicInteger IDS = new AtomicInteger();
  private static final int CAS_RETRIES = 16;

  private final ConsulSettings settings;
  private final ConsulHttp http;
  private final ScheduledExecutorService timer;
  private final Set<ConsulWatcher<?>> watchers = ConcurrentHashMap.newKeySet();
  private final Set<ConsulLocker> lockers = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  ConsulStore(ConsulSettings settings) {
    this.settings = settings;
    this.http = new ConsulHttp(settings);
    int id = IDS.incrementAndGet();
    ScheduledThreadPoolExecutor t =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread th = new Thread(r, "libkv-consul-" + id + "-timer");
              th.setDaemon(true);
              return th;
            });
    t.setRemoveOnCancelPolicy(true);
    this.timer = t;
  }

  /** Checks that an agent answers ({@code GET /v1/status/leader}) within the timeout. */
  void ping() {
    ConsulHttp.Response r = call("GET", "status/leader", null, "status/leader");
    http.expect(r, "GET /v1/status/leader", 200);
  }

  ConsulSettings settings() {
    return settings;
  }

  ConsulHttp http() {
    return http;
  }

  ScheduledExecutorService timer() {
    return timer;
  }

  boolean isClosed() {
    return closed;
  }

  // -------------------------------------------------------------------------------------------
  // Store
  // -------------------------------------------------------------------------------------------

  @Override
  public void put(String key, byte[] value, WriteOptions options) {
    String k = userKey(key);
    Keys.checkValue(value, settings.maxValueBytes());
    write(k, value, Mode.ANY, 0, WriteOptions.orNone(options));
  }

  @Override
  public KVPair get(String key) {
    String k = userKey(key);
    ConsulEntry e = entry(k);
    if (e == null) {
      throw new KeyNotFoundException(k);
    }
    return e.toPair();
  }

  @Override
  public void delete(String key) {
    String k = userKey(key);
    ConsulJson.Txn t = new ConsulJson.Txn().kv("get", k).kv("delete", k);
    ConsulHttp.Response r = txn(t, "delete " + k);
    if (r.status() == 409) {
      // The only op that can fail is the "get", which fails when the key does not exist.
      throw new KeyNotFoundException(k);
    }
  }

  @Override
  public boolean exists(String key) {
    return entry(userKey(key)) != null;
  }

  @Override
  public Watch<KVPair> watch(String key) {
    String k = userKey(key);
    return startWatcher(ConsulWatcher.forKey(this, k));
  }

  @Override
  public Watch<KVPair> watch(String key, long afterIndex) {
    userKey(key);
    throw new CallNotSupportedException(
        Backend.CONSUL,
        "watch(key, afterIndex)",
        "Consul keeps no history of a key: a blocking query from an index returns only the"
            + " latest state, so changes in between would be skipped");
  }

  @Override
  public Watch<List<KVPair>> watchTree(String directory) {
    String d = userKey(directory);
    return startWatcher(ConsulWatcher.forTree(this, d));
  }

  @Override
  public Locker newLock(String key, LockOptions options) {
    String k = userKey(key);
    checkOpen();
    return new ConsulLocker(this, k, LockOptions.orDefaults(options));
  }

  @Override
  public List<KVPair> list(String directory) {
    String d = userKey(directory);
    ConsulHttp.Response r = call("GET", ConsulPaths.kv(d + "/") + "?recurse", null, "list " + d);
    http.expect(r, "list " + d, 200, 404);
    List<KVPair> out = r.status() == 404 ? List.of() : visible(r.body(), d, "list " + d);
    if (out.isEmpty() && entry(d) == null) {
      throw new KeyNotFoundException(d);
    }
    return out;
  }

  @Override
  public void deleteTree(String directory) {
    String d = userKey(directory);
    ConsulJson.Txn t = new ConsulJson.Txn().kv("delete-tree", d + "/").kv("delete", d);
    ConsulHttp.Response r = txn(t, "deleteTree " + d);
    http.expect(r, "deleteTree " + d, 200);
  }

  @Override
  public KVPair atomicPut(String key, byte[] value, KVPair previous, WriteOptions options) {
    String k = userKey(key);
    Keys.checkValue(value, settings.maxValueBytes());
    WriteOptions o = WriteOptions.orNone(options);
    return previous == null
        ? write(k, value, Mode.CREATE, 0, o)
        : write(k, value, Mode.INDEX, previous.lastIndex(), o);
  }

  @Override
  public boolean atomicDelete(String key, KVPair previous) {
    String k = userKey(key);
    if (previous == null) {
      throw new PreviousNotSpecifiedException(k);
    }
    long expected = previous.lastIndex();
    // check-index fails for a missing key too; a bare DELETE ?cas= would answer true for one.
    ConsulJson.Txn t =
        new ConsulJson.Txn().kv("check-index", k, null, 0, expected, null).kv("delete", k);
    ConsulHttp.Response r = txn(t, "atomicDelete " + k);
    if (r.status() == 200) {
      return true;
    }
    ConsulEntry now = entry(k);
    if (now == null) {
      throw new KeyNotFoundException(k);
    }
    throw new KeyModifiedException(k, expected, now.modifyIndex());
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (ConsulLocker l : List.copyOf(lockers)) {
      l.closeFromStore();
    }
    for (ConsulWatcher<?> w : List.copyOf(watchers)) {
      w.queue().close();
    }
    http.close();
    timer.shutdownNow();
  }

  // -------------------------------------------------------------------------------------------
  // Shared by the watchers and lockers
  // -------------------------------------------------------------------------------------------

  private enum Mode {
    ANY,
    CREATE,
    INDEX
  }

  /**
   * Writes {@code value} in one transaction: a check that the key is as just read, the release of
   * an earlier TTL session (so a put without TTL makes the key persistent), and a {@code set} or,
   * with a TTL, a {@code lock} by a new session whose invalidation deletes the key.
   */
  private KVPair write(String k, byte[] value, Mode mode, long expected, WriteOptions o) {
    String newSession =
        o.hasTtl() ? createSession("libkv-ttl " + k, ttlSession(o.ttl()), "delete") : null;
    boolean done = false;
    try {
      for (int attempt = 0; ; attempt++) {
        ConsulEntry cur = entry(k);
        if (mode == Mode.CREATE && cur != null) {
          throw new KeyExistsException(k);
        }
        if (mode == Mode.INDEX) {
          if (cur == null) {
            throw new KeyNotFoundException(k);
          }
          if (cur.modifyIndex() != expected) {
            throw new KeyModifiedException(k, expected, cur.modifyIndex());
          }
        }
        ConsulJson.Txn t = new ConsulJson.Txn();
        if (cur == null) {
          t.kv("check-not-exists", k);
        } else {
          t.kv("check-index", k, null, 0, cur.modifyIndex(), null);
        }
        String oldTtlSession = null;
        if (cur != null && cur.session() != null) {
          if (cur.flags() == TTL_FLAG) {
            oldTtlSession = cur.session();
            t.kv("unlock", k, value, 0, 0, oldTtlSession);
          } else if (newSession != null) {
            throw new StoreException(
                "cannot put "
                    + k
                    + " with a TTL: the key is held by session "
                    + cur.session()
                    + " (a lock), which a TTL session cannot replace");
          }
        }
        if (newSession != null) {
          t.kv("lock", k, value, TTL_FLAG, 0, newSession);
        } else {
          t.kv("set", k, value, 0, 0, null);
        }
        ConsulHttp.Response r = txn(t, "put " + k);
        if (r.status() == 200) {
          ConsulEntry written = ConsulJson.txnResult(r.body(), "put " + k).last(k);
          if (written == null) {
            throw new StoreException("Consul's txn answer for put " + k + " has no entry for it");
          }
          done = true;
          if (oldTtlSession != null) {
            destroySessionQuietly(oldTtlSession);
          }
          return new KVPair(k, value, written.modifyIndex());
        }
        // 409: the key changed between the read and the transaction; read again and decide.
        if (attempt >= CAS_RETRIES) {
          throw new StoreException(
              "put "
                  + k
                  + " kept conflicting with concurrent writers: "
                  + ConsulJson.txnResult(r.body(), "put " + k).errors());
        }
      }
    } finally {
      if (!done && newSession != null) {
        destroySessionQuietly(newSession);
      }
    }
  }

  /**
   * The session TTL for a key TTL: half of it, because Consul invalidates a session up to twice its
   * TTL after the last renewal (its documented "up to double"); the key is then gone by {@code
   * ttl}. Shorter TTLs than 20 s cannot be honoured, since sessions live at least 10 s.
   */
  static Duration ttlSession(Duration ttl) {
    if (ttl.compareTo(MIN_PUT_TTL) < 0) {
      throw new CallNotSupportedException(
          Backend.CONSUL,
          "put with ttl " + ttl,
          "Consul KV has no per-key TTL; the adapter uses a session (TTL at least 10 s) that Consul"
              + " may invalidate up to twice its TTL late, so TTLs under "
              + MIN_PUT_TTL
              + " cannot be honoured within ttl + 1 s");
    }
    if (ttl.compareTo(MAX_SESSION_TTL.multipliedBy(2)) > 0) {
      throw new CallNotSupportedException(
          Backend.CONSUL,
          "put with ttl " + ttl,
          "Consul sessions live at most " + MAX_SESSION_TTL + ", so at most twice that as a TTL");
    }
    long halfMs = (ttl.toMillis() + 1) / 2;
    return Duration.ofMillis(halfMs);
  }

  /** Returns the entry at {@code k}, or {@code null} on 404. */
  ConsulEntry entry(String k) {
    ConsulHttp.Response r = call("GET", ConsulPaths.kv(k), null, "get " + k);
    http.expect(r, "get " + k, 200, 404);
    if (r.status() == 404) {
      return null;
    }
    for (ConsulEntry e : ConsulJson.entries(r.body(), "get " + k)) {
      if (e.key().equals(k)) {
        return e;
      }
    }
    return null;
  }

  /** Sends a transaction; returns 200 or 409 answers, throws for others. */
  ConsulHttp.Response txn(ConsulJson.Txn t, String what) {
    ConsulHttp.Response r = call("PUT", "txn", t.body(), what);
    return http.expect(r, what, 200, 409);
  }

  /** The listed pairs under {@code dir}: sorted, full keys, no internal or folder keys. */
  static List<KVPair> visible(byte[] body, String dir, String what) {
    List<KVPair> out = new ArrayList<>();
    for (ConsulEntry e : ConsulJson.entries(body, what)) {
      if (Keys.isUnder(e.key(), dir) && isUserKey(e.key())) {
        out.add(e.toPair());
      }
    }
    out.sort(Comparator.comparing(KVPair::key, io.libkv.spi.Keys.ORDER));
    return out;
  }

  /** Whether {@code key} is a key of the API: normalised, not internal, not a folder marker. */
  static boolean isUserKey(String key) {
    if (key.endsWith("/") || key.startsWith("/") || key.contains("//")) {
      return false;
    }
    return !(key.equals(INTERNAL_ROOT) || key.startsWith(INTERNAL_ROOT + "/"));
  }

  String createSession(String name, Duration ttl, String behavior) {
    byte[] body =
        ConsulJson.sessionCreate(
            name,
            ConsulDurations.format(ttl),
            behavior,
            ConsulDurations.format(settings.lockDelay()));
    ConsulHttp.Response r = call("PUT", "session/create", body, "session create");
    http.expect(r, "session create", 200);
    return ConsulJson.sessionId(r.body(), "session create");
  }

  /** Destroys a session; its keys go as its behavior says. */
  void destroySession(String id) {
    ConsulHttp.Response r = call("PUT", "session/destroy/" + id, null, "session destroy " + id);
    http.expect(r, "session destroy " + id, 200);
  }

  void destroySessionQuietly(String id) {
    try {
      destroySession(id);
    } catch (StoreException e) {
      // The session then ends by its own TTL.
    }
  }

  /** A synchronous call with the connection timeout; an interrupt becomes a StoreException. */
  ConsulHttp.Response call(String method, String path, byte[] body, String what) {
    try {
      return http.call(method, path, body, settings.connectionTimeout());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted during " + what, e);
    }
  }

  void checkOpen() {
    if (closed) {
      throw new StoreException("Consul store is closed");
    }
  }

  void register(ConsulLocker l) {
    lockers.add(l);
  }

  void unregister(ConsulLocker l) {
    lockers.remove(l);
  }

  void unregister(ConsulWatcher<?> w) {
    watchers.remove(w);
  }

  private <T> Watch<T> startWatcher(ConsulWatcher<T> w) {
    checkOpen();
    watchers.add(w);
    w.start();
    if (closed) {
      w.queue().close();
    }
    return w.queue();
  }

  private static String userKey(String key) {
    String k = Keys.normalize(key);
    if (k.equals(INTERNAL_ROOT) || k.startsWith(INTERNAL_ROOT + "/")) {
      throw new IllegalArgumentException(
          "keys under " + INTERNAL_ROOT + "/ are reserved by the Consul adapter: " + k);
    }
    return k;
  }

  @Override
  public String toString() {
    return "ConsulStore" + settings.endpoints();
  }
}
