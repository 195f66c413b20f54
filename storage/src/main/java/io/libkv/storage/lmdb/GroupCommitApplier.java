package io.libkv.storage.lmdb;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandResult;
import io.libkv.storage.engine.CommandSubmitter;
import io.libkv.storage.engine.DutyCycle;
import io.libkv.storage.engine.KvEngine;
import io.libkv.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

/**
 * The LMDB backend's write path: one apply thread (a {@link DutyCycle}) drains every queued command
 * into one write transaction (group commit: one fsync per batch) and completes the callers'
 * futures.
 */
final class GroupCommitApplier implements CommandSubmitter, AutoCloseable {
  private static final int MAX_BATCH = 4096;
  private static final long IDLE_PARK_NS = TimeUnit.MILLISECONDS.toNanos(100);

  private final KvEngine engine;
  private final ManyToOneConcurrentArrayQueue<Pending> queue =
      new ManyToOneConcurrentArrayQueue<>(16384);
  private final List<Pending> batch = new ArrayList<>();
  private final List<Command> commands = new ArrayList<>();
  private final DutyCycle duty;
  private volatile boolean closed;
  private volatile Throwable fatal;

  private record Pending(Command command, CompletableFuture<CommandResult> future) {}

  GroupCommitApplier(KvEngine engine, String name) {
    this.engine = engine;
    String role = "libkv-lmdb-apply-" + name;
    this.duty =
        new DutyCycle(
            new Agent() {
              @Override
              public int doWork() {
                return applyQueued();
              }

              @Override
              public void onClose() {
                // What was queued before close() is applied, not failed.
                while (applyQueued() > 0) {
                  // until the queue is empty
                }
              }

              @Override
              public String roleName() {
                return role;
              }
            },
            role,
            IDLE_PARK_NS);
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
      duty.wake();
      LockSupport.parkNanos(10_000);
    }
    if (closed) {
      f.completeExceptionally(new StoreException("LMDB store closed: " + engine.dataDir()));
    } else if (fatal != null) {
      failQueued();
    }
    duty.wake();
    return f;
  }

  private void failQueued() {
    Throwable t = fatal;
    StoreException e =
        new StoreException("LMDB apply thread of " + engine.dataDir() + " died: " + t, t);
    queue.drain(p -> p.future().completeExceptionally(e));
  }

  /** One duty cycle on the apply thread: applies up to a batch of queued commands; how many. */
  private int applyQueued() {
    queue.drain(batch::add, MAX_BATCH);
    if (batch.isEmpty()) {
      return 0;
    }
    int n = batch.size();
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
      return n;
    } catch (Error e) {
      // Nobody may wait forever: fail this batch and everything queued, now and later.
      fatal = e;
      StoreException failure =
          new StoreException("LMDB apply thread of " + engine.dataDir() + " died: " + e, e);
      for (Pending p : batch) {
        p.future().completeExceptionally(failure);
      }
      batch.clear();
      failQueued();
      throw new AgentTerminationException(e);
    }
    for (int i = 0; i < batch.size(); i++) {
      batch.get(i).future().complete(results.get(i));
    }
    batch.clear();
    return n;
  }

  /** Applies what is queued, then stops the apply thread; later submits fail. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    duty.close();
    StoreException end = new StoreException("LMDB store closed: " + engine.dataDir());
    queue.drain(p -> p.future().completeExceptionally(end));
  }
}
