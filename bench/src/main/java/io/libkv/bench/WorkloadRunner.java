package io.libkv.bench;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Runs measured phases against a {@link Target}: closed-loop client threads, each issuing its next
 * operation when the previous one returns, with every operation's latency recorded in an
 * HdrHistogram {@link Recorder}. Operations that start before the warm-up ends or finish after the
 * measured window are not recorded.
 */
final class WorkloadRunner {
  /** Latencies above this are recorded as this (60 s). */
  static final long MAX_LATENCY_NS = 60_000_000_000L;

  private static final long STACK_BYTES = 256 * 1024;
  private static final long PROGRESS_EVERY_MS = 250;
  private static final Duration WATCH_POLL = Duration.ofMillis(100);

  private final Progress progress;

  WorkloadRunner(Progress progress) {
    this.progress = progress;
  }

  /** The shape of one phase. */
  record Phase(
      Workload workload,
      int clients,
      Duration duration,
      long opLimit,
      Duration warmup,
      KeySpace keys,
      int valueSize,
      int watchRatePerSec) {
    Phase {
      if (clients < 1) {
        throw new IllegalArgumentException("clients must be at least 1, was " + clients);
      }
      if (valueSize < 8) {
        throw new IllegalArgumentException("valueSize must be at least 8 bytes, was " + valueSize);
      }
    }
  }

  /**
   * Writes every key of {@code keys} once with {@code clients} threads, and returns the load as a
   * {@code load} result.
   */
  Result load(Target target, KeySpace keys, int valueSize, int clients) {
    int n = Math.max(1, Math.min(clients, keys.size()));
    String label = target.name() + " load " + keys.size() + " keys";
    progress.startPhase(label);
    Recorder recorder = new Recorder(MAX_LATENCY_NS, 3);
    AtomicLong done = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicReference<String> firstError = new AtomicReference<>();
    long start = System.nanoTime();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < n; t++) {
      int first = t;
      Target view = target.forClient(t);
      threads.add(
          start(
              "bench-load-" + t,
              () -> {
                SplittableRandom rnd = new SplittableRandom(first);
                for (int i = first; i < keys.size(); i += n) {
                  byte[] value = value(rnd, valueSize);
                  long t0 = System.nanoTime();
                  try {
                    view.put(keys.key(i), value);
                    recorder.recordValue(Math.min(System.nanoTime() - t0, MAX_LATENCY_NS));
                    done.incrementAndGet();
                  } catch (RuntimeException e) {
                    errors.incrementAndGet();
                    firstError.compareAndSet(null, describe(e));
                  }
                }
              }));
    }
    Histogram total = new Histogram(MAX_LATENCY_NS, 3);
    waitFor(
        threads,
        () -> done.get() + errors.get() >= keys.size(),
        start,
        0,
        keys.size(),
        done,
        recorder,
        total,
        label);
    total.add(recorder.getIntervalHistogram());
    double seconds = (System.nanoTime() - start) / 1e9;
    Result r =
        Result.of(
            target.name(),
            "load",
            n,
            valueSize,
            seconds,
            errors.get(),
            0,
            total,
            firstError.get(),
            null);
    progress.endPhase(r);
    return r;
  }

  /** Runs one phase and returns its result. */
  Result run(Target target, Phase phase) {
    return phase.workload() == Workload.WATCH ? runWatch(target, phase) : runOps(target, phase);
  }

  private Result runOps(Target target, Phase phase) {
    String label =
        String.format(
            Locale.ROOT, "%s %s c=%d", target.name(), phase.workload().label(), phase.clients());
    progress.startPhase(label);
    Recorder recorder = new Recorder(MAX_LATENCY_NS, 3);
    AtomicLong recorded = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicLong conflicts = new AtomicLong();
    AtomicReference<String> firstError = new AtomicReference<>();
    AtomicBoolean stop = new AtomicBoolean();
    long begin = System.nanoTime();
    long measureStart = begin + phase.warmup().toNanos();
    long measureEnd =
        phase.opLimit() > 0 ? Long.MAX_VALUE : measureStart + phase.duration().toNanos();
    KeySpace keys = phase.keys();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < phase.clients(); c++) {
      int client = c;
      Target view = target.forClient(c);
      threads.add(
          start(
              "bench-client-" + c,
              () -> {
                SplittableRandom rnd = new SplittableRandom(client * 0x9E3779B97F4A7C15L + 1);
                while (!stop.get()) {
                  String key = keys.key(rnd.nextInt(keys.size()));
                  boolean conflict = false;
                  long t0 = System.nanoTime();
                  try {
                    switch (phase.workload()) {
                      case PUT -> view.put(key, value(rnd, phase.valueSize()));
                      case GET -> view.get(key);
                      case CAS -> conflict = !view.cas(key, value(rnd, phase.valueSize()));
                      case MIXED -> {
                        if (rnd.nextInt(100) < Workload.MIXED_READ_PERCENT) {
                          view.get(key);
                        } else {
                          view.put(key, value(rnd, phase.valueSize()));
                        }
                      }
                      default -> throw new IllegalStateException(phase.workload().name());
                    }
                  } catch (RuntimeException e) {
                    errors.incrementAndGet();
                    firstError.compareAndSet(null, describe(e));
                    continue;
                  }
                  long t1 = System.nanoTime();
                  if (t0 >= measureStart && t1 <= measureEnd) {
                    recorder.recordValue(Math.min(t1 - t0, MAX_LATENCY_NS));
                    if (conflict) {
                      conflicts.incrementAndGet();
                    }
                    if (recorded.incrementAndGet() >= phase.opLimit() && phase.opLimit() > 0) {
                      stop.set(true);
                    }
                  }
                }
              }));
    }
    Histogram total = new Histogram(MAX_LATENCY_NS, 3);
    long limitNs = phase.opLimit() > 0 ? 0 : measureEnd - begin;
    waitFor(
        threads,
        stop::get,
        begin,
        limitNs,
        phase.opLimit(),
        recorded,
        recorder,
        total,
        label,
        measureStart);
    stop.set(true);
    joinAll(threads);
    total.add(recorder.getIntervalHistogram());
    long end = Math.min(System.nanoTime(), measureEnd);
    double seconds = Math.max(1e-9, (end - measureStart) / 1e9);
    Result r =
        Result.of(
            target.name(),
            phase.workload().label(),
            phase.clients(),
            phase.valueSize(),
            seconds,
            errors.get(),
            conflicts.get(),
            total,
            firstError.get(),
            null);
    progress.endPhase(r);
    return r;
  }

  /**
   * Every client watches one hot key while one writer puts to it at up to {@code watchRatePerSec};
   * the value carries the writer's {@link System#nanoTime()} so each delivery's latency is exact.
   */
  private Result runWatch(Target target, Phase phase) {
    String label = String.format(Locale.ROOT, "%s watch w=%d", target.name(), phase.clients());
    progress.startPhase(label);
    String hotKey = phase.keys().hotKey();
    Recorder recorder = new Recorder(MAX_LATENCY_NS, 3);
    Recorder writerRecorder = new Recorder(MAX_LATENCY_NS, 3);
    AtomicLong recorded = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicReference<String> firstError = new AtomicReference<>();
    AtomicBoolean stop = new AtomicBoolean();
    List<Target.Subscription> subs = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    try {
      target.put(hotKey, value(new SplittableRandom(0), phase.valueSize()));
      for (int c = 0; c < phase.clients(); c++) {
        subs.add(target.forClient(c).watch(hotKey));
      }
      long begin = System.nanoTime();
      long measureStart = begin + phase.warmup().toNanos();
      long measureEnd =
          phase.opLimit() > 0 ? Long.MAX_VALUE : measureStart + phase.duration().toNanos();
      for (int c = 0; c < subs.size(); c++) {
        Target.Subscription sub = subs.get(c);
        threads.add(
            start(
                "bench-watcher-" + c,
                () -> {
                  while (!stop.get()) {
                    byte[] v;
                    try {
                      v = sub.next(WATCH_POLL);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                      return;
                    } catch (RuntimeException e) {
                      if (!stop.get()) {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, describe(e));
                      }
                      return;
                    }
                    long now = System.nanoTime();
                    if (v == null || v.length < 8) {
                      continue;
                    }
                    long stamp = ByteBuffer.wrap(v).getLong(0);
                    if (stamp >= measureStart && now <= measureEnd) {
                      recorder.recordValue(Math.max(0, Math.min(now - stamp, MAX_LATENCY_NS)));
                      if (recorded.incrementAndGet() >= phase.opLimit() && phase.opLimit() > 0) {
                        stop.set(true);
                      }
                    }
                  }
                }));
      }
      AtomicLong writes = new AtomicLong();
      Thread writer =
          start(
              "bench-watch-writer",
              () -> {
                SplittableRandom rnd = new SplittableRandom(42);
                long periodNs = 1_000_000_000L / Math.max(1, phase.watchRatePerSec());
                long next = System.nanoTime();
                while (!stop.get()) {
                  long now = System.nanoTime();
                  if (now < next) {
                    java.util.concurrent.locks.LockSupport.parkNanos(next - now);
                    continue;
                  }
                  next += periodNs;
                  if (next < now - periodNs) {
                    next = now; // the writer fell behind: do not burst to catch up
                  }
                  byte[] v = value(rnd, phase.valueSize());
                  long t0 = System.nanoTime();
                  ByteBuffer.wrap(v).putLong(0, t0);
                  try {
                    target.put(hotKey, v);
                  } catch (RuntimeException e) {
                    errors.incrementAndGet();
                    firstError.compareAndSet(null, describe(e));
                    continue;
                  }
                  long t1 = System.nanoTime();
                  if (t0 >= measureStart && t1 <= measureEnd) {
                    writerRecorder.recordValue(Math.min(t1 - t0, MAX_LATENCY_NS));
                    writes.incrementAndGet();
                  }
                }
              });
      threads.add(writer);
      Histogram total = new Histogram(MAX_LATENCY_NS, 3);
      long limitNs = phase.opLimit() > 0 ? 0 : measureEnd - begin;
      waitFor(
          threads,
          stop::get,
          begin,
          limitNs,
          phase.opLimit(),
          recorded,
          recorder,
          total,
          label,
          measureStart);
      stop.set(true);
      joinAll(threads);
      total.add(recorder.getIntervalHistogram());
      Histogram w = writerRecorder.getIntervalHistogram();
      long end = Math.min(System.nanoTime(), measureEnd);
      double seconds = Math.max(1e-9, (end - measureStart) / 1e9);
      String extra =
          String.format(
              Locale.ROOT,
              "writer %.0f puts/s (target %d/s), writer put p99 %.3f ms; %.1f%% of"
                  + " watcher-events delivered",
              w.getTotalCount() / seconds,
              phase.watchRatePerSec(),
              w.getTotalCount() > 0 ? w.getValueAtPercentile(99) / 1e6 : 0.0,
              w.getTotalCount() == 0
                  ? 0.0
                  : 100.0 * total.getTotalCount() / ((double) w.getTotalCount() * subs.size()));
      Result r =
          Result.of(
              target.name(),
              "watch",
              phase.clients(),
              phase.valueSize(),
              seconds,
              errors.get(),
              0,
              total,
              firstError.get(),
              extra);
      progress.endPhase(r);
      return r;
    } finally {
      stop.set(true);
      joinAll(threads);
      for (Target.Subscription s : subs) {
        try {
          s.close();
        } catch (RuntimeException e) {
          // closing is best effort once the phase is over
        }
      }
    }
  }

  private void waitFor(
      List<Thread> threads,
      java.util.function.BooleanSupplier done,
      long begin,
      long limitNs,
      long opLimit,
      AtomicLong ops,
      Recorder recorder,
      Histogram total,
      String label) {
    waitFor(threads, done, begin, limitNs, opLimit, ops, recorder, total, label, begin);
  }

  /**
   * Waits until the window ends ({@code limitNs} after {@code begin}, if positive), {@code done}
   * holds, or every thread has ended, redrawing the progress bar meanwhile.
   */
  private void waitFor(
      List<Thread> threads,
      java.util.function.BooleanSupplier done,
      long begin,
      long limitNs,
      long opLimit,
      AtomicLong ops,
      Recorder recorder,
      Histogram total,
      String label,
      long measureStart) {
    Histogram interval = null;
    long lastNs = System.nanoTime();
    long lastOps = 0;
    double rate = 0;
    while (true) {
      long now = System.nanoTime();
      if (done.getAsBoolean() || (limitNs > 0 && now - begin >= limitNs) || allDone(threads)) {
        return;
      }
      long sleepMs = PROGRESS_EVERY_MS;
      if (limitNs > 0) {
        sleepMs = Math.max(1, Math.min(sleepMs, (begin + limitNs - now) / 1_000_000));
      }
      try {
        Thread.sleep(sleepMs); // the progress bar's refresh period, not a wait for a condition
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      interval = recorder.getIntervalHistogram(interval);
      total.add(interval);
      long t = System.nanoTime();
      long n = ops.get();
      if (t > lastNs && t > measureStart) {
        rate = (n - lastOps) * 1e9 / (t - lastNs);
      }
      lastNs = t;
      lastOps = n;
      double fraction;
      if (limitNs > 0) {
        fraction = (t - begin) / (double) limitNs;
      } else {
        fraction = opLimit > 0 ? n / (double) opLimit : 0;
      }
      progress.update(
          label,
          fraction,
          n,
          rate,
          total.getTotalCount() > 0 ? total.getValueAtPercentile(99) / 1e6 : 0);
    }
  }

  private static boolean allDone(List<Thread> threads) {
    for (Thread t : threads) {
      if (t.isAlive()) {
        return false;
      }
    }
    return true;
  }

  private static void joinAll(List<Thread> threads) {
    boolean interrupted = false;
    for (Thread t : threads) {
      while (true) {
        try {
          t.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static Thread start(String name, Runnable body) {
    Thread t = new Thread(null, body, name, STACK_BYTES);
    t.setDaemon(true);
    t.start();
    return t;
  }

  static byte[] value(SplittableRandom rnd, int size) {
    byte[] v = new byte[size];
    for (int i = 0; i < size; i += 8) {
      long r = rnd.nextLong();
      for (int j = 0; j < 8 && i + j < size; j++) {
        v[i + j] = (byte) (r >>> (8 * j));
      }
    }
    return v;
  }

  static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }
}
