package io.libkv.storage.engine;

import io.libkv.spi.Keys;
import io.libkv.spi.WatchQueue;
import io.libkv.store.KVPair;
import io.libkv.store.StoreException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** The subscribers {@link EngineStore} registers with its {@link WatchHub}. Hub thread only. */
final class Subscriptions {
  private Subscriptions() {}

  /** A key watch: the current pair or the replayed history first, then every change. */
  static final class KeyWatch extends WatchHub.Subscription {
    final WatchQueue<KVPair> queue;
    private final long afterIndex;
    private final WatchState.Key state;

    /**
     * @param onClose given this watch when its queue is closed (the caller's first close), to
     *     unsubscribe it
     */
    KeyWatch(String key, long afterIndex, int capacity, Consumer<WatchHub.Subscription> onClose) {
      super(key, false);
      this.afterIndex = afterIndex;
      this.queue = new WatchQueue<>(key, capacity, () -> onClose.accept(this));
      this.state = new WatchState.Key(key);
    }

    @Override
    Runnable start(ReadView v) {
      if (afterIndex < 0) {
        KvEntry e = v.get(key);
        return () -> {
          if (e != null) {
            queue.offer(state.delivered(e.toPair()));
          }
        };
      }
      List<ChangeEvent> replay = v.keyChangesAfter(key, afterIndex);
      return () -> {
        for (ChangeEvent e : replay) {
          queue.offer(state.delivered(e.toPair()));
        }
        lastDelivered = afterIndex;
      };
    }

    @Override
    void onChange(ChangeEvent e) {
      queue.offer(state.delivered(e.toPair()));
    }

    @Override
    void resync(ReadView v) {
      KVPair p = state.catchUp(v);
      if (p != null) {
        queue.offer(p);
      }
      lastDelivered = v.revision();
    }

    @Override
    void fail(StoreException e) {
      queue.fail(e);
    }
  }

  /** A tree watch: the whole list first, then after every revision that changed the tree. */
  static final class TreeWatch extends WatchHub.Subscription {
    final WatchQueue<List<KVPair>> queue;
    private final WatchState.Tree state;

    /**
     * @param onClose given this watch when its queue is closed (the caller's first close), to
     *     unsubscribe it
     */
    TreeWatch(String directory, int capacity, Consumer<WatchHub.Subscription> onClose) {
      super(directory, true);
      this.queue = new WatchQueue<>(directory + "/", capacity, () -> onClose.accept(this));
      this.state = new WatchState.Tree(directory);
    }

    @Override
    Runnable start(ReadView v) {
      List<KvEntry> entries = v.listPrefix(key + "/");
      return () -> queue.offer(state.load(entries));
    }

    @Override
    void onChange(ChangeEvent e) {
      if (!Keys.isUnder(e.key(), key)) {
        return;
      }
      List<KVPair> complete = state.change(e.toPair());
      if (complete != null) {
        queue.offer(complete);
      }
    }

    @Override
    void endOfPage() {
      List<KVPair> pending = state.end();
      if (pending != null) {
        queue.offer(pending);
      }
    }

    @Override
    void resync(ReadView v) {
      queue.offer(state.load(v));
      lastDelivered = v.revision();
    }

    @Override
    void fail(StoreException e) {
      queue.fail(e);
    }
  }

  /** Starts once the engine has applied a revision; delivers nothing (see {@link EngineStore}). */
  static final class Barrier extends WatchHub.Subscription {
    Barrier() {
      super("", false);
    }

    @Override
    Runnable start(ReadView v) {
      return () -> {};
    }

    @Override
    void onChange(ChangeEvent e) {}

    @Override
    void resync(ReadView v) {}

    @Override
    void fail(StoreException e) {}
  }

  /**
   * Completes when a key is deleted (a lock's predecessor, or its own waiter). Waiter keys are
   * never re-created, so a snapshot that lacks the key is one after its deletion: the hub starts
   * this at a revision at which the key existed (see {@link EngineStore#awaitDeletion}).
   */
  static final class DeletionWait extends WatchHub.Subscription {
    final CompletableFuture<Void> gone = new CompletableFuture<>();

    DeletionWait(String key) {
      super(key, false);
    }

    @Override
    Runnable start(ReadView v) {
      boolean absent = v.get(key) == null;
      return () -> {
        if (absent) {
          gone.complete(null);
        }
      };
    }

    @Override
    void onChange(ChangeEvent e) {
      if (e.isDeletion()) {
        gone.complete(null);
      }
    }

    @Override
    void resync(ReadView v) {
      if (v.get(key) == null) {
        gone.complete(null);
      }
      lastDelivered = v.revision();
    }

    @Override
    void fail(StoreException e) {
      gone.completeExceptionally(e);
    }
  }
}
