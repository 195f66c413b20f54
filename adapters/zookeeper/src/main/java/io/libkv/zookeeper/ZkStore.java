package io.libkv.zookeeper;

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
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.RetryLoop;
import org.apache.curator.RetryPolicy;
import org.apache.curator.RetrySleeper;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.zookeeper.ClientCnxnSocketNetty;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZKUtil;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ZKConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;

/**
 * The Store over one Curator client. User keys are znodes under {@link ZkSettings#root()}; a znode
 * holding {@code null} data is a directory that parents other keys but stores nothing.
 */
final class ZkStore implements Store {
  /** How often a compare-and-set loop re-reads after losing a race before giving up. */
  private static final int MAX_RACES = 64;

  /**
   * ZooKeeper does not show a znode's TTL to clients (its stat reports no owner), so a TTL znode
   * also carries this ACL entry: a digest identity that grants nothing (no permission bits) and
   * whose "hash" is the TTL in milliseconds, which no password can produce.
   */
  private static final String TTL_MARK = "libkv-ttl-ms:";

  private static final long MAX_TTL_MS = 0x000000ffffffffffL;

  private static final AtomicInteger THREADS = new AtomicInteger();

  final ZkSettings settings;
  private final ZkTls tls;
  final ZkErrors errors;
  final CuratorFramework client;
  final List<ACL> acl;
  final ZkWatchHub watches;
  final Set<ZkLocker> lockers = ConcurrentHashMap.newKeySet();
  private final String root;
  private volatile boolean closed;

  private ZkStore(ZkSettings settings, ZkTls tls, CuratorFramework client) {
    this.settings = settings;
    this.tls = tls;
    this.errors = new ZkErrors(settings.endpoints(), settings.config().username().orElse(null));
    this.client = client;
    this.root = settings.root();
    this.acl =
        settings.config().username().isPresent()
            ? ZooDefs.Ids.CREATOR_ALL_ACL
            : ZooDefs.Ids.OPEN_ACL_UNSAFE;
    this.watches = new ZkWatchHub(this);
  }

  static ZkStore open(ZkSettings settings) {
    ZkTls tls = ZkTls.of(settings.config());
    CuratorFramework client;
    try {
      client = newClient(settings, tls, settings.sessionTimeoutMs(), "store");
    } catch (RuntimeException e) {
      tls.close();
      throw e;
    }
    ZkStore store = new ZkStore(settings, tls, client);
    boolean ok = false;
    try {
      client.start();
      if (!client.blockUntilConnected(settings.connectionTimeoutMs(), TimeUnit.MILLISECONDS)) {
        ZKClientConfig zc = new ZKClientConfig();
        tls.configure(zc);
        String why = ZkTlsProbe.diagnose(servers(settings.endpoints()), zc);
        throw store.errors.notReachable(
            "no server answered within "
                + settings.connectionTimeout()
                + (why == null ? "" : "; " + why),
            null);
      }
      store.watches.start();
      store.call(
          "open",
          settings.root(),
          zk -> {
            store.ensureDir(zk, settings.root());
            // With digest credentials the root is created creator-only: reading it proves that
            // the credentials are the ones that created it, and refuses wrong ones at once.
            zk.getData(settings.root(), false, null);
            return null;
          });
      ok = true;
      return store;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("opening the ZooKeeper store was interrupted", e);
    } finally {
      if (!ok) {
        store.close();
      }
    }
  }

  private static List<java.net.InetSocketAddress> servers(List<String> endpoints) {
    List<java.net.InetSocketAddress> out = new ArrayList<>();
    for (String e : endpoints) {
      int colon = e.trim().lastIndexOf(':');
      out.add(
          new java.net.InetSocketAddress(
              e.trim().substring(0, colon), Integer.parseInt(e.trim().substring(colon + 1))));
    }
    return out;
  }

  /** Creates (not starts) a Curator client for one lock's session. */
  CuratorFramework newClient(int sessionTimeoutMs, String role) {
    return newClient(settings, tls, sessionTimeoutMs, role);
  }

  private static CuratorFramework newClient(
      ZkSettings settings, ZkTls tls, int sessionTimeoutMs, String role) {
    ZKClientConfig zc = new ZKClientConfig();
    tls.configure(zc);
    zc.setProperty(
        ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, ClientCnxnSocketNetty.class.getName());
    // Responses carry whole values: allow the configured value limit plus room for metadata.
    zc.setProperty(
        ZKConfig.JUTE_MAXBUFFER,
        Integer.toString(Math.max(settings.config().maxValueBytes() + (1 << 20), 0xfffff)));
    CuratorFrameworkFactory.Builder b =
        CuratorFrameworkFactory.builder()
            .connectString(settings.connectString())
            .sessionTimeoutMs(sessionTimeoutMs)
            // Each attempt waits at most a second for a connection; DeadlineRetry repeats the
            // attempts until Config.connectionTimeout, so a call gives up close to it.
            .connectionTimeoutMs(Math.min(settings.connectionTimeoutMs(), 1000))
            .retryPolicy(new DeadlineRetry(settings.connectionTimeoutMs()))
            .zkClientConfig(zc)
            // Each new session first takes up rotated TLS files (ZooKeeper's client makes its TLS
            // context once per session).
            .zookeeperFactory(
                new org.apache.curator.utils.ZookeeperFactory() {
                  @Override
                  public org.apache.zookeeper.ZooKeeper newZooKeeper(
                      String connect, int timeoutMs, org.apache.zookeeper.Watcher w, boolean ro)
                      throws Exception {
                    return newZooKeeper(connect, timeoutMs, w, ro, zc);
                  }

                  @Override
                  public org.apache.zookeeper.ZooKeeper newZooKeeper(
                      String connect,
                      int timeoutMs,
                      org.apache.zookeeper.Watcher w,
                      boolean ro,
                      ZKClientConfig config)
                      throws Exception {
                    tls.refresh();
                    return new org.apache.zookeeper.ZooKeeper(connect, timeoutMs, w, ro, config);
                  }
                })
            .maxCloseWaitMs(2000)
            .threadFactory(
                r -> {
                  Thread t = new Thread(r, "libkv-zk-" + role + "-" + THREADS.incrementAndGet());
                  t.setDaemon(true);
                  return t;
                });
    if (settings.config().username().isPresent()) {
      String auth = settings.config().username().get() + ":" + settings.config().password().get();
      b.authorization("digest", auth.getBytes(StandardCharsets.UTF_8));
    }
    return b.build();
  }

  /** Retries ZooKeeper's retryable errors until the connection timeout has passed. */
  static final class DeadlineRetry implements RetryPolicy {
    private final long timeoutMs;

    DeadlineRetry(long timeoutMs) {
      this.timeoutMs = timeoutMs;
    }

    @Override
    public boolean allowRetry(int retryCount, long elapsedTimeMs, RetrySleeper sleeper) {
      long sleepMs = Math.min(500, 25L << Math.min(retryCount, 5));
      // Start no attempt that could not finish its wait for a connection within the timeout.
      long attemptMs = Math.min(timeoutMs, 1000);
      if (retryCount > 0 && elapsedTimeMs + sleepMs + attemptMs > timeoutMs) {
        return false;
      }
      if (elapsedTimeMs + sleepMs >= timeoutMs) {
        return false;
      }
      try {
        sleeper.sleepFor(sleepMs, TimeUnit.MILLISECONDS);
        return true;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
  }

  /** One ZooKeeper operation, run with Curator's retry loop. */
  @FunctionalInterface
  interface ZkCall<T> {
    T call(ZooKeeper zk) throws Exception;
  }

  <T> T call(String op, String key, ZkCall<T> body) {
    return call(client, op, key, body);
  }

  <T> T call(CuratorFramework c, String op, String key, ZkCall<T> body) {
    checkOpen();
    try {
      return RetryLoop.callWithRetry(
          c.getZookeeperClient(), () -> body.call(c.getZookeeperClient().getZooKeeper()));
    } catch (Exception e) {
      throw errors.map(e, op, key, key.startsWith("/") ? key : pathOf(key));
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new StoreException("the ZooKeeper store is closed");
    }
  }

  String pathOf(String key) {
    return root + "/" + ZkNames.encode(key);
  }

  String keyOf(String path) {
    return ZkNames.decode(path.substring(root.length() + 1));
  }

  static String parentOf(String path) {
    int slash = path.lastIndexOf('/');
    return slash <= 0 ? "/" : path.substring(0, slash);
  }

  /** The TTL in milliseconds recorded in a znode's ACL, or 0 for a znode without one. */
  static long ttlOf(List<ACL> acls) {
    for (ACL a : acls) {
      Id id = a.getId();
      if ("digest".equals(id.getScheme()) && id.getId().startsWith(TTL_MARK)) {
        try {
          return Long.parseLong(id.getId().substring(TTL_MARK.length()));
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }

  /** The ACL of a new znode: the store's, plus the TTL mark for a TTL znode. */
  List<ACL> aclFor(long ttlMs) {
    if (ttlMs <= 0) {
      return acl;
    }
    List<ACL> l = new ArrayList<>(acl);
    l.add(new ACL(0, new Id("digest", TTL_MARK + ttlMs)));
    return l;
  }

  /** Whether the znode is an ephemeral one (a held lock's value). */
  static boolean isEphemeral(Stat st) {
    return st.getEphemeralOwner() != 0;
  }

  private static long ttlMillis(WriteOptions options) {
    if (!options.hasTtl()) {
      return 0;
    }
    // Round up to whole milliseconds: the key must not outlive its TTL.
    long ms = TimeUnit.NANOSECONDS.toMillis(options.ttl().toNanos() + 999_999);
    if (ms > MAX_TTL_MS) {
      throw new IllegalArgumentException(
          "ttl " + options.ttl() + " is over ZooKeeper's TTL limit of " + MAX_TTL_MS + " ms");
    }
    return ms;
  }

  private void sync(ZooKeeper zk) throws Exception {
    if (settings.syncReads()) {
      zk.sync(root);
    }
  }

  /** Creates {@code dir} and its missing ancestors as directory znodes (null data). */
  void ensureDir(ZooKeeper zk, String dir) throws KeeperException, InterruptedException {
    if (dir.equals("/")) {
      return;
    }
    try {
      zk.create(dir, null, acl, CreateMode.PERSISTENT);
    } catch (KeeperException.NodeExistsException e) {
      // Already there.
    } catch (KeeperException.NoNodeException e) {
      ensureDir(zk, parentOf(dir));
      try {
        zk.create(dir, null, acl, CreateMode.PERSISTENT);
      } catch (KeeperException.NodeExistsException raced) {
        // Created concurrently.
      }
    }
  }

  /** Creates {@code path} and its missing parents; returns the new node's stat. */
  Stat create(ZooKeeper zk, String path, byte[] data, CreateMode mode, long ttlMs)
      throws KeeperException, InterruptedException {
    Stat st = new Stat();
    createNamed(zk, path, data, mode, ttlMs, st);
    return st;
  }

  /**
   * Creates {@code path} and its missing parents; returns the created path (with its sequence
   * number for a sequential mode) and fills {@code st}.
   */
  String createNamed(ZooKeeper zk, String path, byte[] data, CreateMode mode, long ttlMs, Stat st)
      throws KeeperException, InterruptedException {
    for (int i = 0; ; i++) {
      try {
        return zk.create(path, data, aclFor(ttlMs), mode, st, mode.isTTL() ? ttlMs : -1);
      } catch (KeeperException.NoNodeException e) {
        // A concurrent delete may remove an emptied parent again between the two steps.
        if (i >= MAX_RACES) {
          throw e;
        }
        ensureDir(zk, parentOf(path));
      }
    }
  }

  /**
   * The TTL of the node read as {@code n}, from its ACL.
   *
   * @throws Raced if the node changed since it was read
   */
  private static long ttlOf(ZooKeeper zk, String path, Node n)
      throws KeeperException, InterruptedException, Raced {
    Stat now = new Stat();
    List<ACL> acls;
    try {
      acls = zk.getACL(path, now);
    } catch (KeeperException.NoNodeException e) {
      throw new Raced();
    }
    if (now.getVersion() != n.stat().getVersion() || now.getCzxid() != n.stat().getCzxid()) {
      throw new Raced();
    }
    return ttlOf(acls);
  }

  private static CreateMode modeFor(long ttlMs) {
    return ttlMs > 0 ? CreateMode.PERSISTENT_WITH_TTL : CreateMode.PERSISTENT;
  }

  /** The race lost by a conditional write: re-read and try again. */
  private static final class Raced extends Exception {
    private static final long serialVersionUID = 1L;

    Raced() {
      super(null, null, false, false);
    }
  }

  /**
   * Writes {@code value} over the existing node last read as {@code st}, so that it ends with the
   * wanted TTL (a TTL is fixed at creation: changing it replaces the node in one transaction).
   *
   * @param haveTtlMs the TTL the node has now, from its ACL (0 for none)
   * @return the stat after the write
   * @throws Raced if the node changed since {@code st}
   */
  private Stat overwrite(
      ZooKeeper zk, String key, String path, byte[] value, long ttlMs, Stat st, long haveTtlMs)
      throws KeeperException, InterruptedException, Raced {
    boolean sameKind = haveTtlMs == ttlMs && !isEphemeral(st);
    boolean keepNode = sameKind || st.getNumChildren() > 0 || (isEphemeral(st) && ttlMs == 0);
    if (keepNode) {
      if (!sameKind && ttlMs > 0) {
        throw new CallNotSupportedException(
            Backend.ZK,
            "put with ttl",
            "key " + key + " has children; ZooKeeper fixes a TTL when the znode is created");
      }
      try {
        return zk.setData(path, value, st.getVersion());
      } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
        throw new Raced();
      }
    }
    try {
      List<OpResult> results =
          zk.multi(
              List.of(
                  Op.delete(path, st.getVersion()),
                  ttlMs > 0
                      ? Op.create(path, value, aclFor(ttlMs), CreateMode.PERSISTENT_WITH_TTL, ttlMs)
                      : Op.create(path, value, acl, CreateMode.PERSISTENT)));
      Stat created = ((OpResult.CreateResult) results.get(1)).getStat();
      if (created != null) {
        return created;
      }
      Stat now = zk.exists(path, false);
      if (now == null) {
        throw new Raced();
      }
      return now;
    } catch (KeeperException.BadVersionException
        | KeeperException.NoNodeException
        | KeeperException.NotEmptyException
        | KeeperException.NodeExistsException e) {
      throw new Raced();
    }
  }

  @Override
  public void put(String key, byte[] value, WriteOptions options) {
    String k = Keys.normalize(key);
    Keys.checkValue(value, settings.config().maxValueBytes());
    long ttlMs = ttlMillis(WriteOptions.orNone(options));
    String path = pathOf(k);
    call(
        "put",
        k,
        zk -> {
          for (int i = 0; i < MAX_RACES; i++) {
            Stat st = new Stat();
            List<ACL> acls;
            try {
              acls = zk.getACL(path, st);
            } catch (KeeperException.NoNodeException absent) {
              try {
                create(zk, path, value, modeFor(ttlMs), ttlMs);
                return null;
              } catch (KeeperException.NodeExistsException e) {
                continue;
              }
            }
            try {
              overwrite(zk, k, path, value, ttlMs, st, ttlOf(acls));
              return null;
            } catch (Raced r) {
              // Re-read.
            }
          }
          throw new StoreException("put of " + k + " lost " + MAX_RACES + " races in a row");
        });
  }

  /** Reads a node: its data and stat, or {@code null} if absent. */
  record Node(byte[] data, Stat stat) {
    boolean stored() {
      return data != null;
    }
  }

  static Node read(ZooKeeper zk, String path) throws KeeperException, InterruptedException {
    Stat st = new Stat();
    try {
      byte[] data = zk.getData(path, false, st);
      return new Node(data, st);
    } catch (KeeperException.NoNodeException e) {
      return null;
    }
  }

  @Override
  public KVPair get(String key) {
    String k = Keys.normalize(key);
    Node n = syncedRead("get", k);
    if (n == null || !n.stored()) {
      throw new KeyNotFoundException(k);
    }
    return new KVPair(k, n.data(), n.stat().getMzxid());
  }

  @Override
  public boolean exists(String key) {
    String k = Keys.normalize(key);
    Node n = syncedRead("exists", k);
    return n != null && n.stored();
  }

  /** Reads the znode of {@code k} after a {@code sync}, or {@code null} if it is absent. */
  private Node syncedRead(String op, String k) {
    String path = pathOf(k);
    return call(
        op,
        k,
        zk -> {
          sync(zk);
          return read(zk, path);
        });
  }

  @Override
  public void delete(String key) {
    String k = Keys.normalize(key);
    String path = pathOf(k);
    call(
        "delete",
        k,
        zk -> {
          for (int i = 0; i < MAX_RACES; i++) {
            Node n = read(zk, path);
            if (n == null || !n.stored()) {
              throw new KeyNotFoundException(k);
            }
            try {
              remove(zk, path, n.stat());
              return null;
            } catch (Raced r) {
              // Re-read.
            }
          }
          throw new StoreException("delete of " + k + " lost " + MAX_RACES + " races in a row");
        });
  }

  /**
   * Removes the key at {@code path} last read as {@code st}: deletes the znode, or, when it has
   * children, turns it into a directory znode (null data) so that the descendants stay.
   */
  private void remove(ZooKeeper zk, String path, Stat st)
      throws KeeperException, InterruptedException, Raced {
    if (st.getNumChildren() == 0) {
      try {
        zk.delete(path, st.getVersion());
      } catch (KeeperException.BadVersionException
          | KeeperException.NotEmptyException
          | KeeperException.NoNodeException e) {
        throw new Raced();
      }
      pruneEmptyDirs(zk, parentOf(path), root);
    } else {
      try {
        zk.setData(path, null, st.getVersion());
      } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
        throw new Raced();
      }
    }
  }

  /**
   * Deletes directory znodes (null data, no children) from {@code dir} upwards, stopping below
   * {@code top}. Best effort: a concurrent write wins, and the empty directory stays.
   */
  void pruneEmptyDirs(ZooKeeper zk, String dir, String top) throws InterruptedException {
    String d = dir;
    while (d.length() > top.length() && d.startsWith(top + "/")) {
      try {
        Node n = read(zk, d);
        if (n == null || n.stored() || n.stat().getNumChildren() > 0) {
          return;
        }
        zk.delete(d, n.stat().getVersion());
      } catch (KeeperException e) {
        // Someone wrote there meanwhile; the directory is in use again.
        return;
      }
      d = parentOf(d);
    }
  }

  @Override
  public Watch<KVPair> watch(String key) {
    return watches.watchKey(Keys.normalize(key));
  }

  @Override
  public Watch<KVPair> watch(String key, long afterIndex) {
    String k = Keys.normalize(key);
    throw new CallNotSupportedException(
        Backend.ZK,
        "watch(key, afterIndex)",
        "ZooKeeper keeps no history of "
            + k
            + ", so changes after index "
            + afterIndex
            + " cannot be replayed; use watch(key), which starts from the current state");
  }

  @Override
  public Watch<List<KVPair>> watchTree(String directory) {
    return watches.watchTree(Keys.normalizeDirectory(directory));
  }

  @Override
  public Locker newLock(String key, LockOptions options) {
    checkOpen();
    return new ZkLocker(this, Keys.normalize(key), LockOptions.orDefaults(options));
  }

  @Override
  public List<KVPair> list(String directory) {
    String dir = Keys.normalizeDirectory(directory);
    String path = pathOf(dir);
    List<KVPair> out =
        call(
            "list",
            dir,
            zk -> {
              sync(zk);
              Node n = read(zk, path);
              if (n == null) {
                return null;
              }
              List<KVPair> found = collect(zk, path);
              return found.isEmpty() && !n.stored() ? null : found;
            });
    if (out == null) {
      throw new KeyNotFoundException(dir);
    }
    return out;
  }

  /**
   * Every stored descendant of {@code path}, sorted by key; reads one tree level at a time with
   * pipelined asynchronous calls. Not a snapshot: concurrent writes may show partly.
   */
  List<KVPair> collect(ZooKeeper zk, String path) throws Exception {
    List<KVPair> out = new ArrayList<>();
    List<String> level = List.of(path);
    while (!level.isEmpty()) {
      List<CompletableFuture<List<String>>> kids = new ArrayList<>(level.size());
      for (String p : level) {
        CompletableFuture<List<String>> f = new CompletableFuture<>();
        zk.getChildren(
            p,
            false,
            (int rc, String ignored, Object ctx, List<String> children) -> {
              if (rc == KeeperException.Code.OK.intValue()) {
                f.complete(children);
              } else if (rc == KeeperException.Code.NONODE.intValue()) {
                f.complete(List.of());
              } else {
                f.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), p));
              }
            },
            null);
        kids.add(f);
      }
      List<String> next = new ArrayList<>();
      for (int i = 0; i < level.size(); i++) {
        for (String child : await(kids.get(i))) {
          next.add(level.get(i) + "/" + child);
        }
      }
      List<CompletableFuture<Node>> datas = new ArrayList<>(next.size());
      for (String p : next) {
        CompletableFuture<Node> f = new CompletableFuture<>();
        zk.getData(
            p,
            false,
            (int rc, String ignored, Object ctx, byte[] data, Stat st) -> {
              if (rc == KeeperException.Code.OK.intValue()) {
                f.complete(new Node(data, st));
              } else if (rc == KeeperException.Code.NONODE.intValue()) {
                f.complete(null);
              } else {
                f.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), p));
              }
            },
            null);
        datas.add(f);
      }
      for (int i = 0; i < next.size(); i++) {
        Node n = await(datas.get(i));
        if (n != null && n.stored()) {
          out.add(new KVPair(keyOf(next.get(i)), n.data(), n.stat().getMzxid()));
        }
      }
      level = next;
    }
    out.sort(Comparator.comparing(KVPair::key, io.libkv.spi.Keys.ORDER));
    return out;
  }

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    try {
      return f.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }

  @Override
  public void deleteTree(String directory) {
    String dir = Keys.normalizeDirectory(directory);
    String path = pathOf(dir);
    call(
        "deleteTree",
        dir,
        zk -> {
          for (int i = 0; i < MAX_RACES; i++) {
            try {
              // Children first, in multi batches; a concurrent create makes it report false.
              if (ZKUtil.deleteRecursive(zk, path, 200)) {
                pruneEmptyDirs(zk, parentOf(path), root);
                return null;
              }
            } catch (KeeperException.NoNodeException | KeeperException.NotEmptyException e) {
              if (zk.exists(path, false) == null) {
                return null;
              }
            }
          }
          throw new StoreException("deleteTree of " + dir + " lost " + MAX_RACES + " races");
        });
  }

  @Override
  public KVPair atomicPut(String key, byte[] value, KVPair previous, WriteOptions options) {
    String k = Keys.normalize(key);
    Keys.checkValue(value, settings.config().maxValueBytes());
    long ttlMs = ttlMillis(WriteOptions.orNone(options));
    String path = pathOf(k);
    Stat written =
        call(
            "atomicPut",
            k,
            zk -> {
              for (int i = 0; i < MAX_RACES; i++) {
                if (previous == null) {
                  try {
                    return create(zk, path, value, modeFor(ttlMs), ttlMs);
                  } catch (KeeperException.NodeExistsException e) {
                    Node n = read(zk, path);
                    if (n == null) {
                      continue;
                    }
                    if (n.stored()) {
                      throw new KeyExistsException(k);
                    }
                    try {
                      // A directory znode stores nothing: creating the key fills it.
                      return overwrite(zk, k, path, value, ttlMs, n.stat(), ttlOf(zk, path, n));
                    } catch (Raced r) {
                      continue;
                    }
                  }
                }
                Node n = read(zk, path);
                if (n == null || !n.stored()) {
                  throw new KeyNotFoundException(k);
                }
                if (n.stat().getMzxid() != previous.lastIndex()) {
                  throw new KeyModifiedException(k, previous.lastIndex(), n.stat().getMzxid());
                }
                try {
                  // Conditional on the znode version read with the matching mzxid: a write in
                  // between bumps the version and fails this one.
                  return overwrite(zk, k, path, value, ttlMs, n.stat(), ttlOf(zk, path, n));
                } catch (Raced r) {
                  // Re-read: the next round reports the index that won.
                }
              }
              throw new StoreException("atomicPut of " + k + " lost " + MAX_RACES + " races");
            });
    return new KVPair(k, value, written.getMzxid());
  }

  @Override
  public boolean atomicDelete(String key, KVPair previous) {
    String k = Keys.normalize(key);
    if (previous == null) {
      throw new PreviousNotSpecifiedException(k);
    }
    String path = pathOf(k);
    return call(
        "atomicDelete",
        k,
        zk -> {
          for (int i = 0; i < MAX_RACES; i++) {
            Node n = read(zk, path);
            if (n == null || !n.stored()) {
              throw new KeyNotFoundException(k);
            }
            if (n.stat().getMzxid() != previous.lastIndex()) {
              throw new KeyModifiedException(k, previous.lastIndex(), n.stat().getMzxid());
            }
            try {
              remove(zk, path, n.stat());
              return true;
            } catch (Raced r) {
              // Re-read: the next round reports the index that won.
            }
          }
          throw new StoreException("atomicDelete of " + k + " lost " + MAX_RACES + " races");
        });
  }

  boolean isClosed() {
    return closed;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    watches.close();
    for (ZkLocker l : List.copyOf(lockers)) {
      l.closeQuietly();
    }
    client.close();
    tls.close();
  }

  @Override
  public String toString() {
    return "ZkStore[" + settings.connectString() + settings.root() + "]";
  }
}
