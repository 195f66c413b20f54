package io.libkv.cli;

import io.libkv.store.HeldLock;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code ./libkv kv lock KEY -- COMMAND...}: runs a command while holding a lock, and passes it the
 * fencing token. The command inherits this process's standard streams.
 */
@Command(
    name = "lock",
    mixinStandardHelpOptions = true,
    description = {
      "Acquire the lock KEY (waiting in line), run COMMAND while holding it, release it when"
          + " COMMAND exits, and exit with COMMAND's status.",
      "COMMAND finds the lock's fencing token in LIBKV_FENCING_TOKEN (larger for every new"
          + " holder: pass it to what the lock protects) and the key in LIBKV_LOCK_KEY.",
      "If the lock is lost while COMMAND runs (its lease expired), COMMAND is stopped and the"
          + " status is 1. Exits 4 if --wait passes first, 127 if COMMAND cannot be started.",
      "Put -- before COMMAND so that its options are not read as lock's."
    })
final class KvLockCommand implements Callable<Integer> {
  /** How long a command that was asked to stop gets before it is killed. */
  private static final Duration STOP_GRACE = Duration.ofSeconds(10);

  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "KEY", description = "The lock's key.")
  String key;

  @Parameters(
      index = "1..*",
      arity = "1..*",
      paramLabel = "COMMAND",
      description = "The command to run and its arguments.")
  List<String> command;

  @Option(
      names = "--ttl",
      defaultValue = "15s",
      converter = DurationConverter.class,
      paramLabel = "DURATION",
      description =
          "The lease's time to live, renewed while COMMAND runs; a holder that stops renewing"
              + " loses the lock within it (at least 1s, default: ${DEFAULT-VALUE}).")
  Duration ttl;

  @Option(
      names = "--wait",
      converter = DurationConverter.class,
      paramLabel = "DURATION",
      description = "Give up (status 4) if the lock is not held within DURATION (default: wait).")
  Duration wait;

  @Option(
      names = "--value",
      paramLabel = "VALUE",
      description = "What the lock's key holds while held (default: empty).")
  String value;

  @Override
  public Integer call() {
    return kv.run(
        spec.commandLine(),
        (store, out) -> {
          LockOptions.Builder options = LockOptions.builder().ttl(ttl);
          if (value != null) {
            options.value(value.getBytes(StandardCharsets.UTF_8));
          }
          Locker locker = store.newLock(key, options.build());
          HeldLock held = wait == null ? locker.lock() : locker.lock(wait);
          try {
            return runHolding(held);
          } finally {
            locker.unlock();
          }
        });
  }

  private int runHolding(HeldLock held) throws InterruptedException {
    PrintWriter err = spec.commandLine().getErr();
    ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
    pb.environment().put("LIBKV_FENCING_TOKEN", Long.toString(held.fencingToken()));
    pb.environment().put("LIBKV_LOCK_KEY", key);
    Process child;
    try {
      child = pb.start();
    } catch (IOException e) {
      err.println(spec.qualifiedName() + ": cannot run " + command.get(0) + ": " + e.getMessage());
      return KvStatus.CANNOT_RUN;
    }
    // Should this process be stopped (SIGTERM, Ctrl-C), the command must not run on without the
    // lock, whose lease is no longer renewed.
    Thread stopOnExit = new Thread(() -> stopQuietly(child), "libkv-lock-stop-command");
    Runtime.getRuntime().addShutdownHook(stopOnExit);
    try {
      CompletableFuture.anyOf(child.onExit(), held.lost()).get();
    } catch (InterruptedException e) {
      stop(child);
      throw e;
    } catch (ExecutionException e) {
      // Neither future completes exceptionally (onExit and lost() complete normally).
      throw new IllegalStateException("waiting for " + command.get(0) + " failed", e.getCause());
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(stopOnExit);
      } catch (IllegalStateException shuttingDown) {
        // The hook is running or about to: it stops the command.
      }
    }
    if (child.isAlive()) {
      err.println(
          spec.qualifiedName()
              + ": lost the lock on "
              + key
              + " (its lease expired) while "
              + command.get(0)
              + " ran; stopping it");
      err.flush();
      stop(child);
      return KvStatus.ERROR;
    }
    return child.exitValue();
  }

  private static void stopQuietly(Process child) {
    try {
      stop(child);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Asks the command to stop (SIGTERM), then kills it if it has not exited in time. */
  private static void stop(Process child) throws InterruptedException {
    child.destroy();
    if (!child.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
      child.destroyForcibly();
      child.waitFor();
    }
  }
}
