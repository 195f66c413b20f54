package io.libkv.raft;

import io.libkv.storage.engine.AppliedBatch;
import io.libkv.storage.engine.ApplyListener;
import io.libkv.storage.engine.KvEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Completes futures once the local engine has applied a log index: a read of the local copy waits
 * here for the writes its stores were acknowledged (the leader acknowledges a write once it has
 * applied it; a follower applies it when it learns the commit index, see {@link
 * RaftChannel#ownWritesApplied()}), and a barrier answered by another member for the index it
 * returned.
 *
 * <p>Futures complete on the thread that applied the index (the member's apply thread), with no hop
 * to another thread: what is chained onto them must be short and must not block (a reader's thread
 * waits on them).
 */
final class AppliedIndexWaiter implements ApplyListener {
  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  private final KvEngine engine;
  private final ConcurrentSkipListMap<Long, List<CompletableFuture<Void>>> waiting =
      new ConcurrentSkipListMap<>();

  AppliedIndexWaiter(KvEngine engine) {
    this.engine = engine;
    engine.addListener(this);
  }

  /** Completes once the engine's applied index is at least {@code index}. */
  CompletableFuture<Void> await(long index) {
    if (engine.appliedIndex() >= index) {
      return DONE;
    }
    CompletableFuture<Void> f = new CompletableFuture<>();
    waiting.compute(
        index,
        (k, l) -> {
          // A fresh list each time: a concurrent release may be iterating over the old one, and
          // compute may run this function more than once.
          List<CompletableFuture<Void>> list = l == null ? new ArrayList<>(2) : new ArrayList<>(l);
          list.add(f);
          return list;
        });
    // The engine may have moved between the check and the registration.
    release(engine.appliedIndex());
    return f;
  }

  @Override
  public void onApplied(AppliedBatch batch) {
    release(batch.appliedIndex());
  }

  @Override
  public void onRestored(long appliedIndex, long lastRevision) {
    release(appliedIndex);
  }

  private void release(long applied) {
    Map.Entry<Long, List<CompletableFuture<Void>>> e;
    while ((e = waiting.firstEntry()) != null && e.getKey() <= applied) {
      List<CompletableFuture<Void>> list = waiting.remove(e.getKey());
      if (list != null) {
        for (CompletableFuture<Void> f : list) {
          f.complete(null);
        }
      }
    }
  }

  /** Fails every waiting future (the node is closing). */
  void close(RuntimeException cause) {
    engine.removeListener(this);
    for (List<CompletableFuture<Void>> list : waiting.values()) {
      for (CompletableFuture<Void> f : list) {
        f.completeExceptionally(cause);
      }
    }
    waiting.clear();
  }
}
