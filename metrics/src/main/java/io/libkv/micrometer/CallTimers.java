package io.libkv.micrometer;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The {@value MeteredStore#CALLS} timers of one decorated store: one per operation and outcome,
 * registered on first use (the success timers at once, so that every operation shows from the
 * start). Time comes from the registry's clock. Thread-safe.
 */
final class CallTimers {
  private final MeterRegistry registry;
  private final Clock clock;
  private final String backend;
  private final Timer[] successes;
  private final Map<Failure, Timer> failures = new ConcurrentHashMap<>();

  private record Failure(Operation op, Class<?> type) {}

  CallTimers(MeterRegistry registry, String backend) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.clock = registry.config().clock();
    this.backend = Objects.requireNonNull(backend, "backend");
    Operation[] ops = Operation.values();
    this.successes = new Timer[ops.length];
    for (Operation op : ops) {
      successes[op.ordinal()] = timer(op, MeteredStore.SUCCESS);
    }
  }

  /** The start of a call, in the registry clock's nanoseconds. */
  long start() {
    return clock.monotonicTime();
  }

  /** Records a call of {@code op} begun at {@code startNs} that returned normally. */
  void success(Operation op, long startNs) {
    successes[op.ordinal()].record(clock.monotonicTime() - startNs, TimeUnit.NANOSECONDS);
  }

  /** Records a call of {@code op} begun at {@code startNs} that failed with {@code error}. */
  void failure(Operation op, long startNs, Throwable error) {
    long ns = clock.monotonicTime() - startNs;
    Throwable cause = unwrap(error);
    failures
        .computeIfAbsent(new Failure(op, cause.getClass()), f -> timer(op, outcome(f.type())))
        .record(ns, TimeUnit.NANOSECONDS);
  }

  /** Records either outcome: for a future's completion. */
  void complete(Operation op, long startNs, Throwable errorOrNull) {
    if (errorOrNull == null) {
      success(op, startNs);
    } else {
      failure(op, startNs, errorOrNull);
    }
  }

  private Timer timer(Operation op, String outcome) {
    return Timer.builder(MeteredStore.CALLS)
        .description("Calls of the libkv Store API, by backend, operation and outcome")
        .tag(MeteredStore.BACKEND_TAG, backend)
        .tag(MeteredStore.OPERATION_TAG, op.tag)
        .tag(MeteredStore.OUTCOME_TAG, outcome)
        .register(registry);
  }

  /** A future's failure arrives wrapped; the outcome names what the blocking call would throw. */
  private static Throwable unwrap(Throwable t) {
    Throwable e = t;
    while ((e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  private static String outcome(Class<?> c) {
    String name = c.getSimpleName();
    return name.isEmpty() ? c.getName() : name;
  }
}
