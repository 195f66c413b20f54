package io.libkv.zookeeper;

import io.libkv.store.Backend;
import io.libkv.store.CallNotSupportedException;
import io.libkv.store.CannotLockException;
import io.libkv.store.HeldLock;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.StoreException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * A lock on ZooKeeper's classic recipe: each contender creates an ephemeral sequential znode in the
 * key's queue (under {@link ZkSettings#lockRoot()}, outside the user tree), the lowest sequence
 * holds the lock, and each waiter watches only its predecessor. Every acquisition runs in its own
 * ZooKeeper session whose timeout is the lock's TTL, so the session is the lease: ZooKeeper's
 * heartbeats renew it, a holder that stops (or whose {@code stopRenewal} signal fired, after which
 * the session is closed once the TTL has passed) loses the lock when the session ends, and the
 * server then deletes its queue node and the value node at once. The fencing token is the queue
 * node's czxid.
 */
final class ZkLocker implements Locker {
  private final ZkStore store;
  private final String key;
  private final LockOptions options;
  private final String queueDir;
  private final int ttlMs;
  private volatile Held held;

  ZkLocker(ZkStore store, String key, LockOptions options) {
    this.store = store;
    this.key = key;
    this.options = options;
    this.queueDir = store.settings.lockRoot() + "/" + ZkNames.encode(key);
    this.ttlMs = (int) Math.min(Integer.MAX_VALUE, options.ttl().toMillis());
  }

  @Override
  public HeldLock lock() throws InterruptedException {
    return acquire(-1);
  }

  @Override
  public HeldLock lock(Duration timeout) throws InterruptedException {
    return acquire(Math.max(0, timeout.toNanos()));
  }

  private HeldLock acquire(long timeoutNs) throws InterruptedException {
    long start = System.nanoTime();
    Held h = held;
    if (h != null && !h.lost.isDone()) {
      throw new IllegalStateException("this locker already holds the lock on " + key);
    }
    if (store.isClosed()) {
      throw new StoreException("the ZooKeeper store is closed");
    }
    CuratorFramework session = store.newClient(ttlMs, "lock");
    store.lockers.add(this);
    boolean ok = false;
    try {
      session.start();
      if (!session.blockUntilConnected(
          store.settings.connectionTimeoutMs(), TimeUnit.MILLISECONDS)) {
        throw store.errors.notReachable(
            "no server answered within " + store.settings.connectionTimeout(), null);
      }
      int negotiated = session.getZookeeperClient().getZooKeeper().getSessionTimeout();
      if (negotiated > ttlMs + 1000) {
        throw new CallNotSupportedException(
            Backend.ZK,
            "lock ttl " + options.ttl(),
            "the lock's lease is a ZooKeeper session, and the server raised its timeout to "
                + negotiated
                + " ms (its minSessionTimeout, 2 x tickTime by default); use a longer ttl or"
                + " lower the server's minSessionTimeout");
      }
      String prefix = "lock-" + UUID.randomUUID() + "-";
      String node = store.call(session, "lock", key, zk -> findOrCreate(zk, prefix));
      Stat mine = store.call(session, "lock", key, zk -> zk.exists(queueDirChild(node), false));
      if (mine == null) {
        throw new CannotLockException(key, "the session's queue node vanished");
      }
      waitForTurn(session, node, start, timeoutNs);
      writeValue(session);
      Held acquired = new Held(session, node, mine.getCzxid());
      held = acquired;
      acquired.arm();
      ok = true;
      return acquired;
    } catch (Exception e) {
      if (e instanceof InterruptedException ie) {
        throw ie;
      }
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw store.errors.map(e, "lock", key, queueDir);
    } finally {
      if (!ok) {
        // Closing the session deletes its queue node: the place in the queue is given up.
        closeClient(session);
        store.lockers.remove(this);
      }
    }
  }

  /** Closes a session even from an interrupted thread, so that its close request is sent. */
  private static void closeClient(CuratorFramework session) {
    boolean interrupted = Thread.interrupted();
    try {
      session.close();
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private String queueDirChild(String name) {
    return queueDir + "/" + name;
  }

  /**
   * Creates this contender's queue node, or finds the one a retried create already made (the random
   * prefix tells it apart).
   */
  private String findOrCreate(ZooKeeper zk, String prefix) throws Exception {
    try {
      for (String child : zk.getChildren(queueDir, false)) {
        if (child.startsWith(prefix)) {
          return child;
        }
      }
    } catch (KeeperException.NoNodeException e) {
      // First contender: the queue directory is created below.
    }
    String created =
        store.createNamed(
            zk, queueDir + "/" + prefix, null, CreateMode.EPHEMERAL_SEQUENTIAL, -1, new Stat());
    created = created.substring(created.lastIndexOf('/') + 1);
    return created;
  }

  private static long sequence(String name) {
    return Long.parseLong(name.substring(name.lastIndexOf('-') + 1));
  }

  private void waitForTurn(CuratorFramework session, String node, long start, long timeoutNs)
      throws InterruptedException {
    long mySeq = sequence(node);
    while (true) {
      List<String> children =
          store.call(session, "lock", key, zk -> zk.getChildren(queueDir, false));
      String predecessor = null;
      long best = -1;
      boolean found = false;
      for (String c : children) {
        if (!c.startsWith("lock-")) {
          continue;
        }
        long seq = sequence(c);
        if (seq == mySeq) {
          found = true;
        } else if (seq < mySeq && seq > best) {
          best = seq;
          predecessor = c;
        }
      }
      if (!found) {
        throw new CannotLockException(key, "the session lost its place in the queue");
      }
      if (predecessor == null) {
        return;
      }
      CountDownLatch gone = new CountDownLatch(1);
      Watcher w = e -> gone.countDown();
      String pred = queueDirChild(predecessor);
      Stat st = store.call(session, "lock", key, zk -> zk.exists(pred, w));
      if (st == null) {
        continue;
      }
      boolean fired;
      if (timeoutNs < 0) {
        while (!gone.await(200, TimeUnit.MILLISECONDS)) {
          checkSession(session);
        }
        fired = true;
      } else {
        long left = timeoutNs - (System.nanoTime() - start);
        fired = false;
        while (left > 0
            && !(fired = gone.await(Math.min(left, 200_000_000L), TimeUnit.NANOSECONDS))) {
          checkSession(session);
          left = timeoutNs - (System.nanoTime() - start);
        }
      }
      if (!fired) {
        throw new CannotLockException(key, "not acquired within " + Duration.ofNanos(timeoutNs));
      }
    }
  }

  private void checkSession(CuratorFramework session) {
    if (store.isClosed()) {
      throw new StoreException("the ZooKeeper store was closed while waiting for the lock " + key);
    }
    if (!session.getZookeeperClient().isConnected()) {
      // The retry loop of the next call waits for the connection or reports it unreachable.
      store.call(session, "lock", key, zk -> zk.exists(queueDir, false));
    }
  }

  /** Puts the lock's value at the key, as an ephemeral node of this lock's session. */
  private void writeValue(CuratorFramework session) {
    byte[] value = options.value();
    String path = store.pathOf(key);
    store.call(
        session,
        "lock",
        key,
        zk -> {
          long sessionId = zk.getSessionId();
          for (int i = 0; i < 64; i++) {
            try {
              store.create(zk, path, value, CreateMode.EPHEMERAL, -1);
              return null;
            } catch (KeeperException.NodeExistsException e) {
              Stat st = zk.exists(path, false);
              if (st == null) {
                continue;
              }
              try {
                if (st.getEphemeralOwner() == sessionId || st.getNumChildren() > 0) {
                  // A key with children cannot become ephemeral: it keeps the value after unlock.
                  zk.setData(path, value, st.getVersion());
                } else {
                  zk.multi(
                      List.of(
                          Op.delete(path, st.getVersion()),
                          Op.create(path, value, store.acl, CreateMode.EPHEMERAL)));
                }
                return null;
              } catch (KeeperException.BadVersionException
                  | KeeperException.NoNodeException
                  | KeeperException.NotEmptyException
                  | KeeperException.NodeExistsException raced) {
                // Re-read.
              }
            }
          }
          throw new StoreException("lock of " + key + " could not write its value");
        });
  }

  @Override
  public void unlock() {
    Held h = held;
    if (h == null) {
      return;
    }
    held = null;
    h.release(true);
  }

  void closeQuietly() {
    Held h = held;
    held = null;
    if (h != null) {
      h.release(false);
    }
  }

  /** One acquisition: its session, queue node and token. */
  private final class Held implements HeldLock {
    private final CuratorFramework session;
    private final String node;
    private final long token;
    private final CompletableFuture<Void> lost = new CompletableFuture<>();
    private volatile boolean releasing;

    Held(CuratorFramework session, String node, long token) {
      this.session = session;
      this.node = node;
      this.token = token;
    }

    void arm() {
      session
          .getConnectionStateListenable()
          .addListener(
              (c, state) -> {
                if (state == ConnectionState.LOST && !releasing) {
                  end();
                }
              });
      watchNode();
      if (options.stopRenewal() != null) {
        options
            .stopRenewal()
            .whenComplete(
                (v, t) ->
                    store.watches.executor().schedule(() -> end(), ttlMs, TimeUnit.MILLISECONDS));
      }
    }

    private void watchNode() {
      try {
        Stat st =
            session
                .getZookeeperClient()
                .getZooKeeper()
                .exists(
                    queueDirChild(node),
                    e -> {
                      if (releasing) {
                        return;
                      }
                      if (e.getType() == Watcher.Event.EventType.NodeDeleted) {
                        end();
                      } else if (e.getType() != Watcher.Event.EventType.None) {
                        watchNode();
                      }
                    });
        if (st == null) {
          end();
        }
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        // Disconnected: the session listener reports the loss if the session ends.
      }
    }

    /**
     * Reports the loss, then ends the session, which deletes the queue node and the value node on
     * the server. Runs off ZooKeeper's and Curator's event threads, which closing would stop.
     */
    void end() {
      lost.complete(null);
      try {
        store.watches.executor().execute(this::closeSession);
      } catch (RejectedExecutionException e) {
        // The store is closing and closes this session itself.
        closeSession();
      }
    }

    private void closeSession() {
      closeClient(session);
      store.lockers.remove(ZkLocker.this);
    }

    void release(boolean report) {
      // The deletes below fire this holder's own node watch: it must not end the session first.
      releasing = true;
      RuntimeException failure = null;
      if (report && !lost.isDone()) {
        try {
          String path = store.pathOf(key);
          store.call(
              session,
              "unlock",
              key,
              zk -> {
                Stat st = zk.exists(path, false);
                if (st != null && st.getEphemeralOwner() == zk.getSessionId()) {
                  try {
                    zk.delete(path, -1);
                  } catch (KeeperException.NoNodeException e) {
                    // Gone already.
                  }
                }
                try {
                  zk.delete(queueDirChild(node), -1);
                } catch (KeeperException.NoNodeException e) {
                  // Gone already.
                }
                store.pruneEmptyDirs(zk, queueDir, store.settings.lockRoot());
                return null;
              });
        } catch (RuntimeException e) {
          failure = e;
        }
      }
      lost.complete(null);
      closeSession();
      if (failure != null) {
        throw failure;
      }
    }

    @Override
    public long fencingToken() {
      return token;
    }

    @Override
    public CompletableFuture<Void> lost() {
      return lost.copy();
    }

    @Override
    public void close() {
      if (held == this) {
        unlock();
      }
    }

    @Override
    public String toString() {
      return "ZkHeldLock[" + key + ", token=" + token + ", lost=" + lost.isDone() + "]";
    }
  }
}
