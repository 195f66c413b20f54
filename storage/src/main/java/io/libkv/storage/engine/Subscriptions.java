package io.libkv.storage.engine;

import io.libkv.spi.Keys;
import io.libkv.spi.WatchQueue;
import io.libkv.store.KVPair;
import io.libkv.store.StoreException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
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
    private long lastMod;
    private boolean present;

    KeyWatch(String key, long afterIndex, WatchQueue<KVPair> queue) {
      super(key, false);
      this.afterIndex = afterIndex;
      this.queue = queue;
    }

    @Override
    void start(ReadView v) {
      if (afterIndex < 0) {
        KvEntry e = v.get(key);
        if (e != null) {
          offer(e.toPair());
        }
      } else {
        for (ChangeEvent e : replay(v, key, afterIndex)) {
          offer(e.toPair());
        }
        lastDelivered = afterIndex;
      }
    }

    @Override
    void onChange(ChangeEvent e) {
      offer(e.toPair());
    }

    private void offer(KVPair p) {
      present = p.value() != null;
      lastMod = p.lastIndex();
      queue.offer(p);
    }

    @Override
    void resync(ReadView v) {
      KvEntry e = v.get(key);
      if (e != null && e.modRevision() != lastMod) {
        offer(e.toPair());
      } else if (e == null && present) {
        offer(new KVPair(key, null, v.revision()));
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
    private final TreeMap<String, KVPair> state = new TreeMap<>(UTF8_ORDER);
    private boolean dirty;
    private long dirtyRevision;

    TreeWatch(String directory, WatchQueue<List<KVPair>> queue) {
      super(directory, true);
      this.queue = queue;
    }

    @Override
    void start(ReadView v) {
      load(v);
    }

    private void load(ReadView v) {
      state.clear();
      for (KvEntry e : v.listPrefix(key + "/")) {
        state.put(e.key(), e.toPair());
      }
      dirty = false;
      queue.offer(List.copyOf(state.values()));
    }

    @Override
    void onChange(ChangeEvent e) {
      if (!Keys.isUnder(e.key(), key)) {
        return;
      }
      if (dirty && e.revision() != dirtyRevision) {
        emit();
      }
      if (e.isDeletion()) {
        state.remove(e.key());
      } else {
        state.put(e.key(), e.toPair());
      }
      dirty = true;
      dirtyRevision = e.revision();
    }

    @Override
    void endOfPage() {
      if (dirty) {
        emit();
      }
    }

    private void emit() {
      dirty = false;
      queue.offer(List.copyOf(state.values()));
    }

    @Override
    void resync(ReadView v) {
      load(v);
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
