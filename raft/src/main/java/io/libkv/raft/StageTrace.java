package io.libkv.raft;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.util.CodeInjectionForTesting;

/**
 * A stage-by-stage trace of single requests through the embedded members running in this JVM: a
 * diagnostic for finding where a put's or a get's time goes, off unless {@link #start() started}.
 *
 * <p>The caller brackets each request with {@link #begin()} and {@link #end()}, one request at a
 * time; between them every stage the request passes is stamped with {@link System#nanoTime()} the
 * first time it is reached: in this module's own code (the store's channel, the state machine's
 * {@code startTransaction}, {@code applyTransaction} and {@code query}), at Apache Ratis' code
 * injection points (the leader sending AppendEntries, a follower receiving them) and, for the Raft
 * log's fsyncs, from JFR's {@code jdk.FileForce} events on each member's log worker thread. Stages
 * the request did not pass (a get has no log entry) stay unset.
 *
 * <p>Not for production use: while a trace runs it owns Ratis' (JVM-wide) injection points used
 * here and a JFR recording. When off, each stamp point costs one volatile read.
 */
public final class StageTrace implements AutoCloseable {
  /** The stages a request can pass, in the order a put passes them. */
  public enum Stage {
    /** The caller calls the store. */
    CALL("caller calls the store"),
    /** The store hands the batch holding the request to Ratis. */
    SUBMIT("store submits the batch to Raft"),
    /** The leader's state machine sees the request ({@code startTransaction}). */
    LEADER_RECEIVE("leader receives it (startTransaction)"),
    /** The leader's log worker starts the fsync that covers the entry. */
    LEADER_FSYNC_START("leader log fsync starts"),
    /** That fsync returns. */
    LEADER_FSYNC_END("leader log fsync ends"),
    /** The leader sends the first AppendEntries holding the entry to a follower. */
    FOLLOWER_SEND("leader sends AppendEntries"),
    /** A follower receives it. */
    FOLLOWER_RECEIVE("follower receives AppendEntries"),
    /** That follower's log worker starts the fsync that covers the entry. */
    FOLLOWER_FSYNC_START("follower log fsync starts"),
    /** That fsync returns (the follower then acknowledges). */
    FOLLOWER_FSYNC_END("follower log fsync ends"),
    /** The leader applies the entry: it is committed. */
    COMMIT("leader: committed, apply starts"),
    /** The leader has applied it. */
    APPLIED("leader: applied"),
    /** The leader's state machine answers a read-only query (after its ReadIndex). */
    QUERY("member answers the query (ReadIndex done)"),
    /** The store has the reply of Ratis. */
    REPLY("store has Ratis' reply"),
    /** The call returns to the caller. */
    RETURN("call returns");

    private final String label;

    Stage(String label) {
      this.label = label;
    }

    /** What the stage is, in a few words. */
    public String label() {
      return label;
    }
  }

  /** The stamps of one traced request: {@code nanos[stage.ordinal()]}, 0 where not reached. */
  public record Sample(long[] nanos) {
    /** Nanoseconds from the call to {@code stage}, or -1 if the request did not reach it. */
    public long sinceCall(Stage stage) {
      long t = nanos[stage.ordinal()];
      return t == 0 ? -1 : t - nanos[Stage.CALL.ordinal()];
    }
  }

  private static final String APPEND_ENTRIES = "RaftServerImpl.appendEntries";
  private static final String SEND_APPEND_ENTRIES =
      org.apache.ratis.grpc.server.GrpcServicesImpl.GRPC_SEND_SERVER_REQUEST;
  private static final String LOG_WORKER = "SegmentedRaftLogWorker";

  private static final AtomicReference<StageTrace> ACTIVE = new AtomicReference<>();

  /** One request's stamps and the members it met. */
  private static final class Op {
    final long[] n = new long[Stage.values().length];
    volatile String leader;
    volatile String follower;

    synchronized void stamp(Stage s, long t) {
      if (n[s.ordinal()] == 0) {
        n[s.ordinal()] = t;
      }
    }
  }

  // The request being traced (one at a time), and the log index it is bound to.
  private volatile Op current;
  private volatile long currentIndex = -1;
  // Stamps by log index, for stages reached before the request knows its index.
  private final Map<Long, Op> byIndex = new ConcurrentHashMap<>();
  private final List<Op> done = new ArrayList<>();
  private final Recording jfr;
  private final Path jfrFile;
  // nanoTime - epoch nanos, to place JFR's wall-clock events on the nanoTime axis.
  private final long nanoOffset;

  private StageTrace(Recording jfr, Path jfrFile, long nanoOffset) {
    this.jfr = jfr;
    this.jfrFile = jfrFile;
    this.nanoOffset = nanoOffset;
  }

  /**
   * Starts tracing in this JVM.
   *
   * @throws IllegalStateException if a trace is already running
   */
  public static StageTrace start() {
    Path file;
    try {
      file = Files.createTempFile("libkv-trace", ".jfr");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the trace's JFR file", e);
    }
    Recording r = new Recording();
    r.enable("jdk.FileForce").withThreshold(Duration.ZERO).withStackTrace();
    r.setToDisk(true);
    Instant now = Instant.now();
    long offset = System.nanoTime() - (now.getEpochSecond() * 1_000_000_000L + now.getNano());
    StageTrace t = new StageTrace(r, file, offset);
    if (!ACTIVE.compareAndSet(null, t)) {
      r.close();
      throw new IllegalStateException("a stage trace is already running in this JVM");
    }
    CodeInjectionForTesting.put(
        SEND_APPEND_ENTRIES,
        (local, remote, args) -> {
          t.entries(local, args, Stage.FOLLOWER_SEND);
          return false;
        });
    CodeInjectionForTesting.put(
        APPEND_ENTRIES,
        (local, remote, args) -> {
          t.entries(local, args, Stage.FOLLOWER_RECEIVE);
          return false;
        });
    r.start();
    return t;
  }

  /** Starts tracing one request: stamps {@link Stage#CALL}. Only one request at a time. */
  public void begin() {
    Op op = new Op();
    currentIndex = -1;
    byIndex.clear();
    op.n[Stage.CALL.ordinal()] = System.nanoTime();
    current = op;
  }

  /** Ends the request begun last: stamps {@link Stage#RETURN} and keeps its stamps. */
  public void end() {
    long now = System.nanoTime();
    Op op = current;
    current = null;
    if (op == null) {
      throw new IllegalStateException("end() without begin()");
    }
    op.stamp(Stage.RETURN, now);
    long index = currentIndex;
    Op byLog = index > 0 ? byIndex.get(index) : null;
    if (byLog != null) {
      for (Stage st : Stage.values()) {
        long t = byLog.n[st.ordinal()];
        if (t != 0) {
          op.stamp(st, t);
        }
      }
      if (op.follower == null) {
        op.follower = byLog.follower;
      }
    }
    byIndex.clear();
    synchronized (done) {
      done.add(op);
    }
  }

  /**
   * Stops tracing and returns one sample per traced request, with the log fsync stages filled in
   * from the JFR recording.
   */
  public List<Sample> samples() {
    stopRecording();
    List<Op> all;
    synchronized (done) {
      all = new ArrayList<>(done);
    }
    addFsyncs(all);
    List<Sample> out = new ArrayList<>(all.size());
    for (Op op : all) {
      out.add(new Sample(op.n.clone()));
    }
    return out;
  }

  private boolean stopped;

  private synchronized void stopRecording() {
    if (stopped) {
      return;
    }
    stopped = true;
    CodeInjectionForTesting.remove(SEND_APPEND_ENTRIES);
    CodeInjectionForTesting.remove(APPEND_ENTRIES);
    ACTIVE.compareAndSet(this, null);
    try {
      jfr.stop();
      jfr.dump(jfrFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the trace's JFR recording", e);
    } finally {
      jfr.close();
    }
  }

  /**
   * Fills in the fsync stages from the JFR recording: the first fsync on the leader's log worker
   * thread that starts after the leader received the request, and the first on the follower's after
   * that follower received the entry. (Ratis names a log worker thread {@code
   * <peer>@group-<id>-SegmentedRaftLogWorker}.)
   */
  private void addFsyncs(List<Op> all) {
    List<long[]> forces = new ArrayList<>(); // {start, end, thread number}
    List<String> threads = new ArrayList<>();
    try {
      for (RecordedEvent e : RecordingFile.readAllEvents(jfrFile)) {
        if (!e.getEventType().getName().equals("jdk.FileForce") || e.getThread() == null) {
          continue;
        }
        String thread = e.getThread().getJavaName();
        if (thread == null || !thread.contains(LOG_WORKER)) {
          continue;
        }
        forces.add(new long[] {toNanos(e.getStartTime()), toNanos(e.getEndTime()), threads.size()});
        threads.add(thread);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the trace's JFR recording", e);
    } finally {
      try {
        Files.deleteIfExists(jfrFile);
      } catch (IOException ignored) {
        // a temporary file
      }
    }
    forces.sort((a, b) -> Long.compare(a[0], b[0]));
    for (Op op : all) {
      fsync(op, op.leader, Stage.LEADER_RECEIVE, Stage.LEADER_FSYNC_START, forces, threads);
      fsync(op, op.follower, Stage.FOLLOWER_RECEIVE, Stage.FOLLOWER_FSYNC_START, forces, threads);
    }
  }

  private static void fsync(
      Op op, String member, Stage after, Stage start, List<long[]> forces, List<String> threads) {
    long from = op.n[after.ordinal()];
    if (member == null || from == 0) {
      return;
    }
    String prefix = member + "@";
    for (long[] f : forces) {
      if (f[0] >= from && threads.get((int) f[2]).startsWith(prefix)) {
        op.n[start.ordinal()] = f[0];
        op.n[start.ordinal() + 1] = f[1]; // the matching _END stage follows its _START
        return;
      }
    }
  }

  private long toNanos(Instant t) {
    return t.getEpochSecond() * 1_000_000_000L + t.getNano() + nanoOffset;
  }

  /** Stops tracing (if {@link #samples()} has not) and discards what it recorded. */
  @Override
  public void close() {
    stopRecording();
    try {
      Files.deleteIfExists(jfrFile);
    } catch (IOException ignored) {
      // a temporary file
    }
  }

  /**
   * A table of the samples: per stage, the median time from the call and the median step from the
   * stage before it (over the requests that reached both).
   */
  public static String table(List<Sample> samples) {
    StringBuilder b = new StringBuilder();
    b.append("| stage | p50 since call ms | p50 step ms | p90 since call ms | reached |\n");
    b.append("|---|---:|---:|---:|---:|\n");
    Stage previous = null;
    for (Stage s : Stage.values()) {
      long[] since = collect(samples, s, null);
      if (since.length == 0) {
        continue;
      }
      long[] step = previous == null ? new long[0] : collect(samples, s, previous);
      b.append("| ")
          .append(s.label())
          .append(" | ")
          .append(ms(pct(since, 50)))
          .append(" | ")
          .append(step.length == 0 ? "" : ms(pct(step, 50)))
          .append(" | ")
          .append(ms(pct(since, 90)))
          .append(" | ")
          .append(since.length)
          .append(" |\n");
      previous = s;
    }
    return b.toString();
  }

  /** Per stage, the median milliseconds from the call, for the stages any sample reached. */
  public static Map<Stage, Double> medians(List<Sample> samples) {
    Map<Stage, Double> m = new EnumMap<>(Stage.class);
    for (Stage s : Stage.values()) {
      long[] since = collect(samples, s, null);
      if (since.length > 0) {
        m.put(s, pct(since, 50) / 1e6);
      }
    }
    return m;
  }

  private static long[] collect(List<Sample> samples, Stage s, Stage from) {
    long[] out = new long[samples.size()];
    int n = 0;
    for (Sample x : samples) {
      long t = x.nanos[s.ordinal()];
      long f = x.nanos[(from == null ? Stage.CALL : from).ordinal()];
      if (t != 0 && f != 0) {
        out[n++] = t - f;
      }
    }
    long[] r = Arrays.copyOf(out, n);
    Arrays.sort(r);
    return r;
  }

  private static long pct(long[] sorted, int p) {
    return sorted[Math.min(sorted.length - 1, (int) ((long) sorted.length * p / 100))];
  }

  private static String ms(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.3f", nanos / 1e6);
  }

  // ------------------------------------------------------------------ stamp points (hot path)

  /** Stamps {@code stage} for the request being traced, if any: the first time only. */
  static void mark(Stage stage) {
    StageTrace t = ACTIVE.get();
    if (t != null) {
      Op op = t.current;
      if (op != null) {
        op.stamp(stage, System.nanoTime());
      }
    }
  }

  /** Stamps {@link Stage#LEADER_RECEIVE} on the leader {@code member}. */
  static void leaderReceived(Object member) {
    StageTrace t = ACTIVE.get();
    if (t != null) {
      Op op = t.current;
      if (op != null) {
        op.stamp(Stage.LEADER_RECEIVE, System.nanoTime());
        if (op.leader == null) {
          op.leader = String.valueOf(member);
        }
      }
    }
  }

  /** Binds the request being traced to its log entry (from the reply). */
  static void index(long logIndex) {
    StageTrace t = ACTIVE.get();
    if (t != null && t.current != null && t.currentIndex < 0) {
      t.currentIndex = logIndex;
    }
  }

  /** Stamps {@code stage} for the log entry {@code logIndex}: the first time only. */
  static void mark(Stage stage, long logIndex) {
    StageTrace t = ACTIVE.get();
    if (t != null && t.current != null) {
      t.byIndex.computeIfAbsent(logIndex, k -> new Op()).stamp(stage, System.nanoTime());
    }
  }

  private void entries(Object local, Object[] args, Stage stage) {
    if (current == null) {
      return;
    }
    for (Object a : args) {
      if (a instanceof AppendEntriesRequestProto p) {
        for (LogEntryProto e : p.getEntriesList()) {
          if (e.hasStateMachineLogEntry()) {
            Op op = byIndex.computeIfAbsent(e.getIndex(), k -> new Op());
            op.stamp(stage, System.nanoTime());
            if (stage == Stage.FOLLOWER_RECEIVE && op.follower == null) {
              op.follower = String.valueOf(local);
            }
          }
        }
      }
    }
  }
}
