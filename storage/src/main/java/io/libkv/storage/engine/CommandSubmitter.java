package io.libkv.storage.engine;

import java.util.concurrent.CompletableFuture;

/**
 * The write side of an {@link EngineStore}: gets a command applied to the engine, once.
 *
 * <p>The LMDB backend implements it with one apply thread that group-commits every queued command
 * into one write transaction (one fsync per batch). The embedded Raft backend implements it by
 * proposing the command (encoded with {@link CommandCodec}) through the Raft log and completing the
 * future with the result its state machine got from {@link KvEngine#apply}.
 *
 * <p>Thread-safe; must never block for long.
 */
@FunctionalInterface
public interface CommandSubmitter {

  /**
   * Submits one command.
   *
   * @return completes with the command's result (a domain error is a result, not an exception), or
   *     exceptionally with a {@link io.libkv.store.StoreException} if the command could not be
   *     applied (for example {@link io.libkv.store.NotReachableException} when there is no leader,
   *     or a closed store); callers treat an exceptional completion as "outcome unknown"
   */
  CompletableFuture<CommandResult> submit(Command command);
}
