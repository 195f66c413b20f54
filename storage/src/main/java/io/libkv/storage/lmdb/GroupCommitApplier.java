package io.libkv.storage.lmdb;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandResult;
import io.libkv.storage.engine.CommandSubmitter;
import io.libkv.storage.engine.KvEngine;
import io.libkv.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

/**
 * The LMDB backend's write path: one apply thread drains every queued command into one write
 * transaction (group commit: one fsync per batch) and completes the callers' futures.
 */
final class GroupCommitApplier implements CommandSubmitter, AutoCloseable {
  private static final int MAX_BATCH = 4096;
  private static final long IDLE_PARK_NS = TimeUnit.MILLISECONDS.toNanos(100);

  private final KvEngine engine;
  private final ManyToOneConcurrentArrayQueue<Pending> queue =
      new ManyToOneConcurrentArrayQueue<>(16384);
  private final Thread thread;
  private volatile boolean closed;
  private volatile Throwable fatal;

  private record Pending(Command command, CompletableFuture<CommandResult> future) {}

  GroupCommitApplier(KvEngine engine, String name) {
    this.engine = engine;
    this.thread = new Thread(this::run, "libkv-lmdb-apply-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public CompletableFuture<CommandResult> submit(Command command) {
    CompletableFuture<CommandResult> f = new CompletableFuture<>();
    Pending p = new Pending(command, f);
    while (!queue.offer(p)) {
      if (closed) {
        break;
      }
      // Full queue: the apply thread is behind; wait for it rather than grow without bound.
      LockSupport.unpark(thread);
      LockSupport.parkNanos(10_000);
    }
    if (closed) {
      f.completeExceptionally(new StoreException("LMDB store closed: " + engine.dataDir()));
    } else if (fatal != null) {
      failQueued();
    }
    LockSupport.unpark(thread);
    return f;
  }

  private void failQueued() {
    Throwable t = fatal;
    StoreException e =
        new StoreException("LMDB apply thread of " + engine.dataDir() + " died: " + t, t);
    queue.drain(p -> p.future().completeExceptionally(e));
  }

  private void run() {
    List<Pending> batch = new ArrayList<>();
    List<Command> commands = new ArrayList<>();
    while (true) {
      queue.drain(batch::add, MAX_BATCH);
      if (batch.isEmpty()) {
        if (closed) {
          break;
        }
        LockSupport.parkNanos(this, IDLE_PARK_NS);
        continue;
      }
      commands.clear();
      for (Pending p : batch) {
        commands.add(p.command());
      }
      List<CommandResult> results;
      try {
        long first = engine.lastRevision() + 1;
        results = engine.apply(first + commands.size() - 1, first, commands);
      } catch (RuntimeException e) {
        StoreException failure =
            e instanceof StoreException se
                ? se
                : new StoreException("LMDB apply failed in " + engine.dataDir() + ": " + e, e);
        for (Pending p : batch) {
          p.future().completeExceptionally(failure);
        }
        batch.clear();
        continue;
      } catch (Error e) {
        // Nobody may wait forever: fail this batch and everything queued, now and later.
        fatal = e;
        StoreException failure =
            new StoreException("LMDB apply thread of " + engine.dataDir() + " died: " + e, e);
        for (Pending p : batch) {
          p.future().completeExceptionally(failure);
        }
        failQueued();
        throw e;
      }
      for (int i = 0; i < batch.size(); i++) {
        batch.get(i).future().complete(results.get(i));
      }
      batch.clear();
    }
  }

  /** Applies what is queued, then stops the apply thread; later submits fail. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    LockSupport.unpark(thread);
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    StoreException end = new StoreException("LMDB store closed: " + engine.dataDir());
    queue.drain(p -> p.future().completeExceptionally(end));
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
