package io.libkv.zookeeper;

import io.libkv.spi.WatchQueue;
import io.libkv.store.KVPair;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * Key and tree watches on ZooKeeper's persistent (and persistent recursive) watches, which fire
 * once per change without re-registration. A notification carries no data, so each one is followed
 * by a read; the read may already see a later write, which makes quick successive changes show as
 * one event (never an older state after a newer one). A deletion carries the zxid of the deleting
 * transaction, which ZooKeeper 3.9 servers put in the notification. ZooKeeper keeps no history, so
 * a watch starts from the current state (resuming from an index is not supported).
 *
 * <p>All watch work runs on one thread per store, in notification order. When the store's
 * connection is down for longer than the connection timeout, or its session expires, every open
 * watch fails with {@link io.libkv.store.NotReachableException}; after a reconnection within the
 * timeout each watch re-reads its state, so changes made meanwhile show (coalesced).
 */
final class ZkWatchHub implements ConnectionStateListener {
  private static final AtomicInteger THREADS = new AtomicInteger();
  private static final int KEY_CAPACITY = 256;
  private static final int TREE_CAPACITY = 16;

  private final ZkStore store;
  private final ScheduledThreadPoolExecutor executor;
  private final Set<Base<?>> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;
  // Touched only on the executor's thread.
  private ScheduledFuture<?> unreachable;

  ZkWatchHub(ZkStore store) {
    this.store = store;
    this.executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "libkv-zk-watch-" + THREADS.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    executor.setRemoveOnCancelPolicy(true);
  }

  void start() {
    store.client.getConnectionStateListenable().addListener(this, executor);
  }

  ScheduledThreadPoolExecutor executor() {
    return executor;
  }

  @Override
  public void stateChanged(CuratorFramework client, ConnectionState state) {
    switch (state) {
      case SUSPENDED -> {
        if (unreachable == null) {
          long ms = store.settings.connectionTimeoutMs();
          unreachable =
              executor.schedule(
                  () ->
                      failAll(
                          store.errors.notReachable(
                              "no connection to any server for "
                                  + store.settings.connectionTimeout()
                                  + "; the watch cannot go on",
                              null)),
                  ms,
                  TimeUnit.MILLISECONDS);
        }
      }
      case LOST -> {
        cancelTimer();
        failAll(
            store.errors.notReachable(
                "the ZooKeeper session expired, and its watches with it", null));
      }
      case RECONNECTED -> {
        cancelTimer();
        for (Base<?> w : open) {
          w.refresh(true);
        }
      }
      default -> {
        // CONNECTED (first time) and READ_ONLY change nothing for watches.
      }
    }
  }

  private void cancelTimer() {
    if (unreachable != null) {
      unreachable.cancel(false);
      unreachable = null;
    }
  }

  private void failAll(StoreException cause) {
    unreachable = null;
    for (Base<?> w : List.copyOf(open)) {
      w.fail(cause);
    }
  }

  private void run(Runnable task) {
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      // The store is closing; its watches are being closed too.
    }
  }

  Watch<KVPair> watchKey(String key) {
    KeyWatch w = new KeyWatch(key);
    register(w, AddWatchMode.PERSISTENT);
    run(() -> w.refresh(false));
    return w.queue;
  }

  Watch<List<KVPair>> watchTree(String dir) {
    TreeWatch w = new TreeWatch(dir);
    register(w, AddWatchMode.PERSISTENT_RECURSIVE);
    w.schedule();
    return w.queue;
  }

  private void register(Base<?> w, AddWatchMode mode) {
    if (closed || store.isClosed()) {
      throw new StoreException("the ZooKeeper store is closed");
    }
    open.add(w);
    try {
      store.call(
          "watch",
          w.key,
          zk -> {
            zk.addWatch(w.path, w, mode);
            return null;
          });
    } catch (RuntimeException e) {
      open.remove(w);
      throw e;
    }
  }

  void close() {
    closed = true;
    for (Base<?> w : List.copyOf(open)) {
      w.queue.close();
    }
    executor.shutdownNow();
  }

  /** What key and tree watches share: the queue, and removal from the server. */
  private abstract class Base<T> implements Watcher {
    final String key;
    final String path;
    final WatchQueue<T> queue;

    Base(String key, int capacity) {
      this.key = key;
      this.path = store.pathOf(key);
      this.queue = new WatchQueue<>(key, capacity, this::onClose);
    }

    abstract void refresh(boolean afterReconnect);

    void fail(StoreException cause) {
      queue.fail(cause);
      open.remove(this);
      unregister();
    }

    private void onClose() {
      open.remove(this);
      unregister();
    }

    private void unregister() {
      if (closed || store.isClosed()) {
        return;
      }
      run(
          () -> {
            try {
              ZooKeeper zk = store.client.getZookeeperClient().getZooKeeper();
              try {
                zk.removeWatches(path, this, WatcherType.Any, false);
              } catch (KeeperException e) {
                // Not reachable now: drop it locally; the server forgets it with the session.
                zk.removeWatches(path, this, WatcherType.Any, true);
              }
            } catch (Exception e) {
              if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
              }
              // Already gone with the session, or the client is closing.
            }
          });
    }

    boolean active() {
      return !queue.isClosed() && !closed;
    }
  }

  /** A watch of one key, on a persistent watch of its znode. */
  private final class KeyWatch extends Base<KVPair> {
    // Touched only on the executor's thread.
    private long lastIndex;
    private boolean present;
    private boolean sawCreate;

    KeyWatch(String key) {
      super(key, KEY_CAPACITY);
    }

    @Override
    public void process(WatchedEvent e) {
      switch (e.getType()) {
        case NodeDeleted -> run(() -> onDeleted(e.getZxid()));
        case NodeCreated ->
            run(
                () -> {
                  sawCreate = true;
                  refresh(false);
                });
        case NodeDataChanged -> run(() -> refresh(false));
        default -> {
          // Connection states go through the hub; child changes do not concern a key.
        }
      }
    }

    private void onDeleted(long zxid) {
      if (!active()) {
        return;
      }
      long index = zxid;
      if (index == WatchedEvent.NO_ZXID) {
        try {
          index = store.call("watch", key, this::deletionIndex);
        } catch (StoreException e) {
          fail(e);
          return;
        }
      }
      try {
        ZkStore.Node n = store.call("watch", key, zk -> ZkStore.read(zk, path));
        if (n != null && n.stat().getCzxid() == index) {
          // Deleted and re-created in one transaction (a put that changed the TTL): not a
          // deletion of the key; the creation's notification reports the new value.
          return;
        }
      } catch (StoreException e) {
        fail(e);
        return;
      }
      deleted(index);
    }

    private void deleted(long index) {
      if ((present || sawCreate) && index > lastIndex) {
        queue.offer(new KVPair(key, null, index));
        lastIndex = index;
      }
      present = false;
      sawCreate = false;
    }

    /** The pzxid of the nearest existing ancestor: not before the deletion of the key. */
    private long deletionIndex(ZooKeeper zk) throws Exception {
      String p = ZkStore.parentOf(path);
      while (true) {
        Stat st = zk.exists(p, false);
        if (st != null) {
          return st.getPzxid();
        }
        if (p.equals("/")) {
          return 0;
        }
        p = ZkStore.parentOf(p);
      }
    }

    @Override
    void refresh(boolean afterReconnect) {
      if (!active()) {
        return;
      }
      ZkStore.Node n;
      long gone = 0;
      try {
        n = store.call("watch", key, zk -> ZkStore.read(zk, path));
        if (n == null && afterReconnect && present) {
          gone = store.call("watch", key, this::deletionIndex);
        }
      } catch (StoreException e) {
        fail(e);
        return;
      }
      if (n == null) {
        if (gone > 0) {
          deleted(gone);
        }
        // Otherwise a NodeDeleted notification follows and reports the deletion.
        return;
      }
      long mzxid = n.stat().getMzxid();
      if (!n.stored()) {
        // The key was deleted while it had children: its znode stays, as a directory.
        deleted(mzxid);
        return;
      }
      present = true;
      if (mzxid > lastIndex) {
        queue.offer(new KVPair(key, n.data(), mzxid));
        lastIndex = mzxid;
      }
    }
  }

  /** A watch of a directory, on a persistent recursive watch of its znode. */
  private final class TreeWatch extends Base<List<KVPair>> {
    private final AtomicBoolean pending = new AtomicBoolean();
    // Touched only on the executor's thread.
    private List<KVPair> last;

    TreeWatch(String dir) {
      super(dir, TREE_CAPACITY);
    }

    @Override
    public void process(WatchedEvent e) {
      if (e.getType() != Event.EventType.None) {
        schedule();
      }
    }

    /** Lists again soon; notifications that arrive before that list are served by it. */
    void schedule() {
      if (pending.compareAndSet(false, true)) {
        run(
            () -> {
              pending.set(false);
              refresh(false);
            });
      }
    }

    @Override
    void refresh(boolean afterReconnect) {
      if (!active()) {
        return;
      }
      List<KVPair> now;
      try {
        now =
            store.call(
                "watchTree",
                key,
                zk -> {
                  ZkStore.Node n = ZkStore.read(zk, path);
                  return n == null ? List.<KVPair>of() : store.collect(zk, path);
                });
      } catch (StoreException e) {
        fail(e);
        return;
      }
      if (!now.equals(last)) {
        last = now;
        queue.offer(now);
      }
    }
  }
}
