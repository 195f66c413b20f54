package io.libkv.storage.engine;

import io.libkv.spi.Keys;
import io.libkv.spi.WatchQueue;
import io.libkv.store.KVPair;
import io.libkv.store.StoreException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** The subscribers {@link EngineStore} registers with its {@link WatchHub}. Hub thread only. */
final class Subscriptions {
  /** UTF-8 byte order (= code point order), the order LMDB lists keys in. */
  static final Comparator<String> UTF8_ORDER =
      (a, b) -> {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
          int ca = a.codePointAt(i);
          int cb = b.codePointAt(j);
          if (ca != cb) {
            return Integer.compare(ca, cb);
          }
          i += Character.charCount(ca);
          j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
      };

  private Subscriptions() {}

  /** Replays history after {@code after} for one key, up to the view's revision. */
  static List<ChangeEvent> replay(ReadView v, String key, long after) {
    List<ChangeEvent> out = new ArrayList<>();
    long pos = after;
    long end = v.revision();
    while (pos < end) {
      HistoryPage page = v.changesAfter(pos, 1024);
      for (ChangeEvent e : page.changes()) {
        if (e.key().equals(key)) {
          out.add(e);
        }
      }
      if (page.scannedTo() <= pos) {
        break;
      }
      pos = page.scannedTo();
    }
    return out;
  }

  /** A key watch: the current pair or the replayed history first, then every change. */
  static final class KeyWatch extends WatchHub.Subscription {
    final WatchQueue<KVPair> queue;
    private final long afterIndex;
    private final WatchState.Key state;

    KeyWatch(String key, long afterIndex, WatchQueue<KVPair> queue) {
      super(key, false);
      this.afterIndex = afterIndex;
      this.queue = queue;
      this.state = new WatchState.Key(key);
    }

    @Override
    void start(ReadView v) {
      if (afterIndex < 0) {
        KvEntry e = v.get(key);
        if (e != null) {
          queue.offer(state.delivered(e.toPair()));
        }
      } else {
        for (ChangeEvent e : replay(v, key, afterIndex)) {
          queue.offer(state.delivered(e.toPair()));
        }
        lastDelivered = afterIndex;
      }
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

    TreeWatch(String directory, WatchQueue<List<KVPair>> queue) {
      super(directory, true);
      this.queue = queue;
      this.state = new WatchState.Tree(directory);
    }

    @Override
    void start(ReadView v) {
      queue.offer(state.load(v));
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
    void start(ReadView v) {}

    @Override
    void onChange(ChangeEvent e) {}

    @Override
    void resync(ReadView v) {}

    @Override
    void fail(StoreException e) {}
  }

  /** Completes when a key is deleted after a revision (a lock's predecessor, or its own waiter). */
  static final class DeletionWait extends WatchHub.Subscription {
    final CompletableFuture<Void> gone = new CompletableFuture<>();
    private final long afterRevision;

    DeletionWait(String key, long afterRevision) {
      super(key, false);
      this.afterRevision = afterRevision;
    }

    @Override
    void start(ReadView v) {
      try {
        for (ChangeEvent e : replay(v, key, afterRevision)) {
          if (e.isDeletion()) {
            gone.complete(null);
          }
        }
      } catch (HistoryCompactedException e) {
        // Waiter keys are never re-created, so absence now means it was deleted.
      }
      if (v.get(key) == null) {
        gone.complete(null);
      }
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
