package io.libkv.bench;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
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
  private static final Duration PIPELINE_DRAIN = Duration.ofSeconds(30);

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
      int watchRatePerSec,
      int pipelineDepth) {
    /** Puts each client keeps in flight in {@link Workload#PIPELINED_PUT} unless told. */
    static final int DEFAULT_PIPELINE_DEPTH = 32;

    Phase(
        Workload workload,
        int clients,
        Duration duration,
        long opLimit,
        Duration warmup,
        KeySpace keys,
        int valueSize,
        int watchRatePerSec) {
      this(
          workload,
          clients,
          duration,
          opLimit,
          warmup,
          keys,
          valueSize,
          watchRatePerSec,
          DEFAULT_PIPELINE_DEPTH);
    }

    Phase {
      if (clients < 1) {
        throw new IllegalArgumentException("clients must be at least 1, was " + clients);
      }
      if (pipelineDepth < 1) {
        throw new IllegalArgumentException(
            "pipeline depth must be at least 1, was " + pipelineDepth);
      }
      if (valueSize < 8) {
        throw new IllegalArgumentException("valueSize must be at least 8 bytes, was " + valueSize);
      }
    }
  }

  /**
   * One phase's measurement: its window, the recorder its threads write to, their counts and first
   * error, and the threads themselves. Thread-safe where the client threads touch it.
   */
  private final class Window {
    final String label;
    final long warmupNs;
    final long durationNs;
    final long opLimit;
    // Set by go(), once every thread exists: starting hundreds of threads while the first ones
    // already run would eat into the window (CPU-bound clients starve the starting thread).
    final CountDownLatch gate = new CountDownLatch(1);
    volatile long begin;
    volatile long measureStart;
    volatile long measureEnd = Long.MAX_VALUE;
    final Recorder recorder = new Recorder(MAX_LATENCY_NS, 3);
    final AtomicLong recorded = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicReference<String> firstError = new AtomicReference<>();
    final AtomicBoolean stop = new AtomicBoolean();
    final List<Thread> threads = new ArrayList<>();

    /** A window of {@code duration} after {@code warmup}, or of {@code opLimit} ops if positive. */
    Window(String label, Duration warmup, Duration duration, long opLimit) {
      this.label = label;
      this.warmupNs = warmup.toNanos();
      this.durationNs = duration.toNanos();
      this.opLimit = opLimit;
    }

    /** Opens the window and lets every started thread go. */
    private void go() {
      begin = System.nanoTime();
      measureStart = begin + warmupNs;
      measureEnd = opLimit > 0 ? Long.MAX_VALUE : measureStart + durationNs;
      gate.countDown();
    }

    boolean inWindow(long t0, long t1) {
      return t0 >= measureStart && t1 <= measureEnd;
    }

    /** Records one operation's latency; stops the phase when the op limit is reached. */
    void record(long latencyNs) {
      recorder.recordValue(Math.max(0, Math.min(latencyNs, MAX_LATENCY_NS)));
      long n = recorded.incrementAndGet();
      if (opLimit > 0 && n >= opLimit) {
        if (n == opLimit) {
          // The window ends here, not when the progress loop notices: ops/s stays exact. The stop
          // flag is raised before the end is published: a client that sees the new end (and so
          // does not record its call) also sees the flag, so it makes no further call. Published
          // the other way round, a client could see the end but not the flag and go on making
          // calls nobody records while this thread is descheduled between the two writes.
          long end = System.nanoTime();
          stop.set(true);
          measureEnd = end;
        } else {
          stop.set(true);
        }
      }
    }

    void fail(Throwable e) {
      errors.incrementAndGet();
      firstError.compareAndSet(null, describe(e));
    }

    /** Starts a client thread; whatever kills it is counted as an error of the phase. */
    void start(String name, Runnable body) {
      threads.add(
          WorkloadRunner.start(
              name,
              () -> {
                try {
                  gate.await();
                  body.run();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                } catch (RuntimeException | LinkageError e) {
                  fail(e);
                }
              }));
    }

    /**
     * Lets the started threads go, waits for the end of the window (or {@code done}), redrawing the
     * progress bar, then stops and joins the threads; returns every recorded latency.
     */
    Histogram finish(BooleanSupplier done, long expectedOps) {
      go();
      Histogram total = new Histogram(MAX_LATENCY_NS, 3);
      long limitNs = measureEnd == Long.MAX_VALUE ? 0 : measureEnd - begin;
      long target = expectedOps > 0 ? expectedOps : opLimit;
      Histogram interval = null;
      long lastNs = System.nanoTime();
      long lastOps = 0;
      double rate = 0;
      while (!done.getAsBoolean()
          && !(limitNs > 0 && System.nanoTime() - begin >= limitNs)
          && !allDone(threads)) {
        long now = System.nanoTime();
        long sleepMs = PROGRESS_EVERY_MS;
        if (limitNs > 0) {
          sleepMs = Math.max(1, Math.min(sleepMs, (begin + limitNs - now) / 1_000_000));
        }
        try {
          Thread.sleep(sleepMs); // the progress bar's refresh period, not a wait for a condition
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
        interval = recorder.getIntervalHistogram(interval);
        total.add(interval);
        long t = System.nanoTime();
        long n = recorded.get();
        if (t > measureStart) {
          rate = (n - lastOps) * 1e9 / (t - lastNs);
        }
        lastNs = t;
        lastOps = n;
        double fraction =
            limitNs > 0 ? (t - begin) / (double) limitNs : target > 0 ? n / (double) target : 0;
        double p99Ms = total.getTotalCount() > 0 ? total.getValueAtPercentile(99) / 1e6 : 0;
        progress.update(label, fraction, n, rate, p99Ms);
      }
      stop.set(true);
      joinAll(threads);
      total.add(recorder.getIntervalHistogram());
      return total;
    }

    /** The measured seconds: from the warm-up's end to the window's end (or now). */
    double seconds() {
      long end = Math.min(System.nanoTime(), measureEnd);
      return Math.max(1e-9, (end - measureStart) / 1e9);
    }

    /** Builds the phase's result and shows it. */
    Result result(
        Target target,
        String workload,
        int clients,
        int valueSize,
        Histogram h,
        long conflicts,
        String extra) {
      Result r =
          Result.of(
              target.name(),
              workload,
              clients,
              valueSize,
              seconds(),
              errors.get(),
              conflicts,
              h,
              firstError.get(),
              extra);
      progress.endPhase(r);
      return r;
    }
  }

  /**
   * Writes every key of {@code keys} once with {@code clients} threads, and returns the load as a
   * {@code load} result.
   */
  Result load(Target target, KeySpace keys, int valueSize, int clients) {
    return load(target, keys, 0, valueSize, clients);
  }

  /**
   * Writes keys {@code from} to {@code keys.size() - 1} of {@code keys} once with {@code clients}
   * threads (to grow a data set step by step), and returns the load as a {@code load} result.
   */
  Result load(Target target, KeySpace keys, int from, int valueSize, int clients) {
    return load(target, keys, from, valueSize, clients, 0);
  }

  /**
   * As {@link #load(Target, KeySpace, int, int, int)}; if {@code pipelineDepth > 0} and the target
   * {@linkplain Target#pipelines() pipelines}, each loader thread keeps up to that many puts in
   * flight through {@link Target#putAsync}.
   */
  Result load(
      Target target, KeySpace keys, int from, int valueSize, int clients, int pipelineDepth) {
    int count = keys.size() - from;
    if (from < 0 || count < 1) {
      throw new IllegalArgumentException(
          "nothing to load from key " + from + " of a space of " + keys.size());
    }
    int n = Math.max(1, Math.min(clients, count));
    boolean pipelined = pipelineDepth > 0 && target.pipelines();
    String label = target.name() + " load " + count + " keys";
    progress.startPhase(label);
    Window w = new Window(label, Duration.ZERO, Duration.ZERO, count);
    for (int t = 0; t < n; t++) {
      int first = from + t;
      Target view = target.forClient(t);
      w.start(
          "bench-load-" + t,
          () -> {
            SplittableRandom rnd = new SplittableRandom(first);
            Semaphore inFlight = new Semaphore(Math.max(1, pipelineDepth));
            for (int i = first; i < keys.size(); i += n) {
              byte[] value = value(rnd, valueSize);
              long t0 = System.nanoTime();
              if (pipelined) {
                inFlight.acquireUninterruptibly();
                try {
                  view.putAsync(keys.key(i), value)
                      .whenComplete(
                          (r, e) -> {
                            try {
                              if (e != null) {
                                w.fail(
                                    e instanceof CompletionException && e.getCause() != null
                                        ? e.getCause()
                                        : e);
                              } else {
                                w.record(System.nanoTime() - t0);
                              }
                            } finally {
                              inFlight.release();
                            }
                          });
                } catch (RuntimeException e) {
                  inFlight.release();
                  w.fail(e);
                }
                continue;
              }
              try {
                view.put(keys.key(i), value);
                w.record(System.nanoTime() - t0);
              } catch (RuntimeException e) {
                w.fail(e);
              }
            }
            inFlight.acquireUninterruptibly(Math.max(1, pipelineDepth)); // every put completed
          });
    }
    Histogram h = w.finish(() -> w.recorded.get() + w.errors.get() >= count, count);
    return w.result(
        target,
        "load",
        n,
        valueSize,
        h,
        0,
        pipelined
            ? "loaded through AsyncStore.putAsync, " + pipelineDepth + " puts in flight per thread"
            : null);
  }

  /** Runs one phase and returns its result. */
  Result run(Target target, Phase phase) {
    return switch (phase.workload()) {
      case WATCH -> runWatch(target, phase);
      case PIPELINED_PUT -> runPipelined(target, phase);
      default -> runOps(target, phase);
    };
  }

  /**
   * Each client keeps up to {@code pipelineDepth} puts in flight through {@link Target#putAsync};
   * an operation's latency is from its call to its future's completion.
   */
  private Result runPipelined(Target target, Phase phase) {
    if (!target.pipelines()) {
      throw new IllegalArgumentException(target.name() + " does not pipeline writes");
    }
    String label =
        String.format(
            Locale.ROOT,
            "%s pipelined-put c=%dx%d",
            target.name(),
            phase.clients(),
            phase.pipelineDepth());
    progress.startPhase(label);
    Window w = new Window(label, phase.warmup(), phase.duration(), phase.opLimit());
    KeySpace keys = phase.keys();
    int depth = phase.pipelineDepth();
    for (int c = 0; c < phase.clients(); c++) {
      int client = c;
      Target view = target.forClient(c);
      w.start(
          "bench-client-" + c,
          () -> {
            SplittableRandom rnd = new SplittableRandom(client * 0x9E3779B97F4A7C15L + 1);
            Semaphore inFlight = new Semaphore(depth);
            try {
              while (!w.stop.get()) {
                if (!inFlight.tryAcquire(WATCH_POLL.toNanos(), TimeUnit.NANOSECONDS)) {
                  continue;
                }
                String key = keys.key(rnd.nextInt(keys.size()));
                byte[] value = value(rnd, phase.valueSize());
                long t0 = System.nanoTime();
                CompletableFuture<?> f;
                try {
                  f = view.putAsync(key, value);
                } catch (RuntimeException e) {
                  inFlight.release();
                  w.fail(e);
                  continue;
                }
                f.whenComplete(
                    (r, e) -> {
                      long t1 = System.nanoTime();
                      try {
                        if (e != null) {
                          w.fail(
                              e instanceof CompletionException && e.getCause() != null
                                  ? e.getCause()
                                  : e);
                        } else if (w.inWindow(t0, t1)) {
                          w.record(t1 - t0);
                        }
                      } finally {
                        inFlight.release();
                      }
                    });
              }
              // Drain: the phase's numbers are read only after every callback has run.
              if (!inFlight.tryAcquire(depth, PIPELINE_DRAIN.toNanos(), TimeUnit.NANOSECONDS)) {
                w.fail(
                    new BenchException(
                        "pipelined puts still pending " + PIPELINE_DRAIN + " after the phase"));
              }
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          });
    }
    Histogram h = w.finish(w.stop::get, 0);
    return w.result(
        target,
        phase.workload().label(),
        phase.clients(),
        phase.valueSize(),
        h,
        0,
        String.format(
            Locale.ROOT,
            "%d puts in flight per client thread (AsyncStore.putAsync); latency is call to"
                + " completion",
            depth));
  }

  private Result runOps(Target target, Phase phase) {
    String label =
        String.format(
            Locale.ROOT, "%s %s c=%d", target.name(), phase.workload().label(), phase.clients());
    progress.startPhase(label);
    Window w = new Window(label, phase.warmup(), phase.duration(), phase.opLimit());
    AtomicLong conflicts = new AtomicLong();
    KeySpace keys = phase.keys();
    for (int c = 0; c < phase.clients(); c++) {
      int client = c;
      Target view = target.forClient(c);
      w.start(
          "bench-client-" + c,
          () -> {
            SplittableRandom rnd = new SplittableRandom(client * 0x9E3779B97F4A7C15L + 1);
            while (!w.stop.get()) {
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
                w.fail(e);
                continue;
              }
              long t1 = System.nanoTime();
              if (w.inWindow(t0, t1)) {
                if (conflict) {
                  conflicts.incrementAndGet();
                }
                w.record(t1 - t0);
              }
            }
          });
    }
    Histogram h = w.finish(w.stop::get, 0);
    return w.result(
        target,
        phase.workload().label(),
        phase.clients(),
        phase.valueSize(),
        h,
        conflicts.get(),
        null);
  }

  /**
   * Every client watches one hot key while one writer puts to it at up to {@code watchRatePerSec};
   * the value carries the writer's {@link System#nanoTime()} at the put call (and, from 16 bytes,
   * the put's sequence number) so each delivery's latency is exact: the main figures are from the
   * put call to the delivery, the note gives the time from the put's acknowledgement (its return to
   * the writer) to the delivery, where a delivery that came before the acknowledgement counts as 0.
   */
  private Result runWatch(Target target, Phase phase) {
    String label = String.format(Locale.ROOT, "%s watch w=%d", target.name(), phase.clients());
    progress.startPhase(label);
    String hotKey = phase.keys().hotKey();
    List<Target.Subscription> subs = new ArrayList<>();
    Window w = null;
    try {
      target.put(hotKey, value(new SplittableRandom(0), phase.valueSize()));
      for (int c = 0; c < phase.clients(); c++) {
        subs.add(target.forClient(c).watch(hotKey));
      }
      Window win = new Window(label, phase.warmup(), phase.duration(), phase.opLimit());
      w = win;
      Acks acks = new Acks();
      for (int c = 0; c < subs.size(); c++) {
        Target.Subscription sub = subs.get(c);
        win.start("bench-watcher-" + c, () -> watchLoop(win, sub, acks));
      }
      Recorder writes = new Recorder(MAX_LATENCY_NS, 3);
      win.start("bench-watch-writer", () -> writeLoop(win, target, hotKey, phase, writes, acks));
      Histogram h = win.finish(win.stop::get, 0);
      Histogram wh = writes.getIntervalHistogram();
      Histogram ah = acks.afterAck.getIntervalHistogram();
      double seconds = win.seconds();
      long n = wh.getTotalCount();
      long a = ah.getTotalCount();
      String afterAck =
          a == 0
              ? ""
              : String.format(
                  Locale.ROOT,
                  "; put acknowledged to delivery p50 %.3f ms, p99 %.3f ms, max %.3f ms"
                      + " (%.1f%% of deliveries came before the put returned, counted as 0)",
                  ah.getValueAtPercentile(50) / 1e6,
                  ah.getValueAtPercentile(99) / 1e6,
                  ah.getMaxValue() / 1e6,
                  100.0 * acks.beforeAck.get() / a);
      String extra =
          String.format(
              Locale.ROOT,
              "writer %.0f puts/s (target %d/s), writer put p99 %.3f ms; %.1f%% of"
                  + " watcher-events delivered%s",
              n / seconds,
              phase.watchRatePerSec(),
              n > 0 ? wh.getValueAtPercentile(99) / 1e6 : 0.0,
              n == 0 ? 0.0 : 100.0 * h.getTotalCount() / ((double) n * subs.size()),
              afterAck);
      return win.result(target, "watch", phase.clients(), phase.valueSize(), h, 0, extra);
    } finally {
      if (w != null) {
        w.stop.set(true);
        w.gate.countDown(); // threads started before a failure must not wait forever
        joinAll(w.threads);
      }
      for (Target.Subscription s : subs) {
        try {
          s.close();
        } catch (RuntimeException e) {
          // closing is best effort once the phase is over
        }
      }
    }
  }

  /**
   * When each of the writer's recent puts was acknowledged, by sequence number (a ring of the last
   * {@value #ACK_RING} puts), and the acknowledgement-to-delivery latencies.
   */
  static final class Acks {
    static final int ACK_RING = 1 << 16;
    final AtomicLongArray ackNs = new AtomicLongArray(ACK_RING);
    final AtomicLongArray ackSeq = new AtomicLongArray(ACK_RING);
    final Recorder afterAck = new Recorder(MAX_LATENCY_NS, 3);
    final AtomicLong beforeAck = new AtomicLong();

    Acks() {
      for (int i = 0; i < ACK_RING; i++) {
        ackSeq.set(i, -1);
      }
    }

    void acknowledged(long seq, long nanos) {
      int i = (int) (seq & (ACK_RING - 1));
      ackNs.set(i, nanos);
      ackSeq.set(i, seq); // written last: a reader that sees the sequence sees the time
    }

    /** Records a delivery of put {@code seq} seen at {@code now}. */
    void delivered(long seq, long now) {
      int i = (int) (seq & (ACK_RING - 1));
      long latency = -1;
      if (ackSeq.get(i) == seq) {
        latency = now - ackNs.get(i);
      }
      if (latency < 0) {
        beforeAck.incrementAndGet();
        latency = 0;
      }
      afterAck.recordValue(Math.min(latency, MAX_LATENCY_NS));
    }
  }

  private static void watchLoop(Window w, Target.Subscription sub, Acks acks) {
    while (!w.stop.get()) {
      byte[] v;
      try {
        v = sub.next(WATCH_POLL);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        if (!w.stop.get()) {
          w.fail(e);
        }
        return;
      }
      long now = System.nanoTime();
      if (v != null && v.length >= 8) {
        ByteBuffer b = ByteBuffer.wrap(v);
        long stamp = b.getLong(0);
        if (w.inWindow(stamp, now)) {
          w.record(now - stamp);
          if (v.length >= 16) {
            acks.delivered(b.getLong(8), now);
          }
        }
      }
    }
  }

  private static void writeLoop(
      Window w, Target target, String hotKey, Phase phase, Recorder writes, Acks acks) {
    SplittableRandom rnd = new SplittableRandom(42);
    long periodNs = 1_000_000_000L / Math.max(1, phase.watchRatePerSec());
    long next = System.nanoTime();
    long seq = 0;
    while (!w.stop.get()) {
      long now = System.nanoTime();
      if (now < next) {
        LockSupport.parkNanos(next - now);
        continue;
      }
      next = Math.max(next + periodNs, now - periodNs); // fell behind: do not burst to catch up
      byte[] v = value(rnd, phase.valueSize());
      seq++;
      long t0 = System.nanoTime();
      ByteBuffer b = ByteBuffer.wrap(v);
      b.putLong(0, t0);
      if (v.length >= 16) {
        b.putLong(8, seq);
      }
      try {
        target.put(hotKey, v);
      } catch (RuntimeException e) {
        w.fail(e);
        continue;
      }
      long t1 = System.nanoTime();
      acks.acknowledged(seq, t1);
      if (w.inWindow(t0, t1)) {
        writes.recordValue(Math.min(t1 - t0, MAX_LATENCY_NS));
      }
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
