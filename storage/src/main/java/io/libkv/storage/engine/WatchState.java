package io.libkv.storage.engine;

import io.libkv.store.KVPair;
import java.util.List;
import java.util.TreeMap;

/**
 * What a key or tree watch remembers between events, shared by both watch implementations (the
 * hub's {@link Subscriptions} and the broadcast readers of {@link BroadcastWatch}): they differ in
 * where changes come from, not in what a watcher is owed. Not thread-safe: each instance belongs to
 * one watch and is used under that watch's own discipline.
 */
final class WatchState {
  private WatchState() {}

  /** A key watch's last delivered pair: enough to resync without repeating or skipping a state. */
  static final class Key {
    private final String key;
    private long lastMod;
    private boolean present;

    Key(String key) {
      this.key = key;
    }

    /** Records {@code p} as delivered and returns it. */
    KVPair delivered(KVPair p) {
      present = p.value() != null;
      lastMod = p.lastIndex();
      return p;
    }

    /**
     * The event that brings a watcher from the last delivered pair to the state in {@code v}
     * (recorded as delivered), or {@code null} if the key has not changed since.
     */
    KVPair catchUp(ReadView v) {
      KvEntry e = v.get(key);
      if (e != null && e.modRevision() != lastMod) {
        return delivered(e.toPair());
      }
      if (e == null && present) {
        return delivered(new KVPair(key, null, v.revision()));
      }
      return null;
    }
  }

  /**
   * A tree watch's view of its directory: changes accumulate per revision, and a revision's list is
   * emitted once the next revision starts or the batch ends, so a watcher sees whole revisions.
   */
  static final class Tree {
    private final String directory;
    private final TreeMap<String, KVPair> state = new TreeMap<>(io.libkv.spi.Keys.ORDER);
    private boolean dirty;
    private long dirtyRevision;

    Tree(String directory) {
      this.directory = directory;
    }

    /** Replaces the state with the directory's contents in {@code v}; returns the list to emit. */
    List<KVPair> load(ReadView v) {
      return load(v.listPrefix(directory + "/"));
    }

    /** Replaces the state with {@code entries}, the directory's contents; returns the list. */
    List<KVPair> load(List<KvEntry> entries) {
      state.clear();
      for (KvEntry e : entries) {
        state.put(e.key(), e.toPair());
      }
      dirty = false;
      return List.copyOf(state.values());
    }

    /**
     * Applies a change of a key under the directory; returns the previous revision's list if this
     * change starts a new revision (its changes all came before this one), else {@code null}.
     */
    List<KVPair> change(KVPair change) {
      List<KVPair> complete = null;
      if (dirty && change.lastIndex() != dirtyRevision) {
        complete = emit();
      }
      if (change.value() == null) {
        state.remove(change.key());
      } else {
        state.put(change.key(), change);
      }
      dirty = true;
      dirtyRevision = change.lastIndex();
      return complete;
    }

    /** The end of a batch: returns the pending revision's list, or {@code null} if none. */
    List<KVPair> end() {
      return dirty ? emit() : null;
    }

    private List<KVPair> emit() {
      dirty = false;
      return List.copyOf(state.values());
    }
  }
}
