package io.libkv.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The scale curves: per backend, throughput and latency as the data set grows (the same key space
 * loaded step by step, e.g. 10k, then 100k, then 1M keys) and as values grow (a fresh deployment,
 * one key set per value size); the disk and resident memory the keys add; and for the embedded
 * backend, after each data step, how long a restarted follower takes to serve a linearizable read
 * again and how long a new member takes to catch up.
 */
final class ScaleRun {

  /** Everything a scale run needs; {@link ScaleCommand} builds it from the command line. */
  record Settings(
      List<String> backends,
      List<Integer> keySteps,
      Map<String, Integer> maxKeys,
      int valueSize,
      List<Integer> valueSizes,
      int valueKeys,
      int clients,
      List<Workload> workloads,
      Duration duration,
      long ops,
      Duration warmup,
      Path out,
      Path dataDir,
      int members,
      int loadClients,
      int loadPipeline,
      boolean recovery,
      List<String> notes,
      String command) {}

  /**
   * One step of a curve on one backend.
   *
   * @param curve {@code keys} (the data set grows) or {@code values} (the value size grows)
   * @param keys keys stored when the step is measured (for {@code values}: keys of this size)
   * @param addedKeys keys this step loaded
   * @param load the load of the added keys
   * @param before the deployment's footprint before the step's load
   * @param afterLoad its footprint right after the load, before the measured phases
   * @param restart for embedded {@code keys} steps: a restarted follower's times, or {@code null}
   * @param catchUp for embedded {@code keys} steps: a new member's catch-up, or {@code null}
   * @param error what failed in this step, or {@code null}
   */
  record Step(
      String backend,
      String curve,
      int keys,
      int addedKeys,
      int valueSize,
      Result load,
      List<Result> results,
      Footprint before,
      Footprint afterLoad,
      ClusterDeployment.Restart restart,
      ClusterDeployment.CatchUp catchUp,
      String error) {

    /** Disk bytes the step's keys added, per key ({@code NaN} if unknown). */
    double diskAddedPerKey() {
      return perKey(before.diskBytes(), afterLoad.diskBytes(), addedKeys);
    }

    /** All disk bytes of the deployment over all keys stored ({@code NaN} if unknown). */
    double diskTotalPerKey() {
      return perKey(0, afterLoad.diskBytes(), keys);
    }

    /**
     * Memory ({@link Footprint#memoryBytes()}) the step's keys added, per key ({@code NaN} if
     * unknown).
     */
    double memoryAddedPerKey() {
      return perKey(before.memoryBytes(), afterLoad.memoryBytes(), addedKeys);
    }

    private static double perKey(long b, long a, int n) {
      return a < 0 || b < 0 || n <= 0 ? Double.NaN : (a - b) / (double) n;
    }

    /** This step's result of {@code workload}, or {@code null}. */
    Result result(String workload) {
      for (Result r : results) {
        if (r.workload().equals(workload)) {
          return r;
        }
      }
      return null;
    }
  }

  /** What a run produced. */
  record Outcome(ScaleReport report, List<Path> files, List<String> failures) {}

  private final Settings s;
  private final PrintStream out;

  ScaleRun(Settings settings, PrintStream out) {
    this.s = settings;
    this.out = out;
    for (String b : settings.backends()) {
      if (!BenchRun.KNOWN_BACKENDS.contains(b)) {
        throw new IllegalArgumentException(
            "unknown backend '" + b + "', expected some of " + BenchRun.KNOWN_BACKENDS);
      }
    }
    for (Workload w : settings.workloads()) {
      if (w == Workload.WATCH) {
        throw new IllegalArgumentException(
            "the scale run measures put, get, cas, mixed, not watch");
      }
    }
  }

  /** The key steps {@code backend} runs (those within its {@code --max-keys}). */
  List<Integer> keySteps(String backend) {
    int max = s.maxKeys().getOrDefault(backend, Integer.MAX_VALUE);
    return s.keySteps().stream().filter(n -> n <= max).sorted().toList();
  }

  Outcome execute() {
    String started = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    Map<String, String> machine = MachineInfo.describe(s.dataDir());
    String loadAtStart = loadAverages();
    int perStep = 1 + s.workloads().size();
    int phases = 0;
    for (String b : s.backends()) {
      phases += perStep * (keySteps(b).size() + s.valueSizes().size());
    }
    Progress progress = Progress.toStderr(phases);
    WorkloadRunner runner = new WorkloadRunner(progress);
    List<Step> steps = new ArrayList<>();
    Map<String, String> deployments = new LinkedHashMap<>();
    List<String> failures = new ArrayList<>();
    List<String> notes = new ArrayList<>(s.notes());
    String runId = Long.toString(System.currentTimeMillis(), 36);
    for (String backend : s.backends()) {
      List<Integer> ks = keySteps(backend);
      if (ks.size() < s.keySteps().size()) {
        notes.add(
            backend
                + ": data-size steps above "
                + s.maxKeys().get(backend)
                + " keys not run (--max-keys)");
      }
      if (!ks.isEmpty()) {
        String what = backend + " (data size)";
        try (Deployment d = start(backend, progress)) {
          deployments.put(what, d.description());
          KeySpace all = new KeySpace("scale/" + runId + "/keys", ks.get(ks.size() - 1));
          int loaded = 0;
          for (int n : ks) {
            Step step = step(runner, d, "keys", all.first(n), loaded, s.valueSize(), progress);
            loaded = n;
            steps.add(step);
            if (step.error() != null) {
              failures.add(what + " at " + n + " keys: " + step.error());
              break;
            }
          }
        } catch (RuntimeException | LinkageError e) {
          failures.add(what + ": " + WorkloadRunner.describe(e));
          progress.message("FAILED " + what + ": " + WorkloadRunner.describe(e));
        }
      }
      if (!s.valueSizes().isEmpty()) {
        String what = backend + " (value size)";
        try (Deployment d = start(backend, progress)) {
          deployments.put(what, d.description());
          for (int size : s.valueSizes()) {
            KeySpace keys = new KeySpace("scale/" + runId + "/v" + size, s.valueKeys());
            Step step = step(runner, d, "values", keys, 0, size, progress);
            steps.add(step);
            if (step.error() != null) {
              failures.add(what + " at " + size + " B: " + step.error());
              break;
            }
          }
        } catch (RuntimeException | LinkageError e) {
          failures.add(what + ": " + WorkloadRunner.describe(e));
          progress.message("FAILED " + what + ": " + WorkloadRunner.describe(e));
        }
      }
    }
    for (Step st : steps) {
      if (st.load().errors() > 0) {
        failures.add(
            st.backend()
                + " load of "
                + st.addedKeys()
                + " keys had "
                + st.load().errors()
                + " errors: "
                + st.load().firstError());
      }
      for (Result r : st.results()) {
        if (!r.ok()) {
          failures.add(
              st.backend()
                  + " "
                  + r.workload()
                  + " at "
                  + st.keys()
                  + " keys of "
                  + st.valueSize()
                  + " B measured nothing"
                  + (r.firstError() == null ? "" : ": " + r.firstError()));
        }
      }
    }
    notes.add(
        String.format(
            Locale.ROOT,
            "closed loop, %d client threads; keys loaded by %d threads%s; %s warm-up then %s"
                + " measured per phase; data-size"
                + " steps grow one key space (%d B values), each value size has its own %d keys"
                + " on a fresh deployment; disk is `du` of every member's data directory (all members"
                + " together); memory is the resident set of the server processes, or for data in"
                + " the harness's JVM (embedded members, LMDB) the heap in use after a full GC plus"
                + " the resident file-backed pages (LMDB's memory map); per-key figures divide"
                + " what the step's load added by the keys it added, so they are noisy at small"
                + " steps and can be negative",
            s.clients(),
            s.loadClients(),
            s.loadPipeline() > 0
                ? ", each keeping "
                    + s.loadPipeline()
                    + " puts in flight where the store implements AsyncStore (blocking puts"
                    + " elsewhere)"
                : "",
            BenchRun.human(s.warmup()),
            s.ops() > 0 ? s.ops() + " ops" : BenchRun.human(s.duration()),
            s.valueSize(),
            s.valueKeys()));
    ScaleReport report =
        new ScaleReport(
            s.command(),
            started,
            machine,
            loadAtStart,
            loadAverages(),
            s.clients(),
            deployments,
            notes,
            failures,
            steps);
    List<Path> files = report.writeTo(s.out());
    out.println();
    out.print(report.markdown());
    out.println("results written to " + s.out().toAbsolutePath());
    return new Outcome(report, files, failures);
  }

  /**
   * Loads keys {@code from} to the end of {@code keys}, measures each workload on every key of
   * {@code keys}, and for an embedded cluster on the data-size curve times a restart and a
   * catch-up.
   */
  private Step step(
      WorkloadRunner runner,
      Deployment d,
      String curve,
      KeySpace keys,
      int from,
      int valueSize,
      Progress progress) {
    Footprint before = Footprint.of(d);
    Result load = null;
    Footprint afterLoad = before;
    List<Result> results = new ArrayList<>();
    ClusterDeployment.Restart restart = null;
    ClusterDeployment.CatchUp catchUp = null;
    String error = null;
    try {
      List<Target> targets = d.openTargets(1);
      try {
        Target t = targets.get(0);
        load = runner.load(t, keys, from, valueSize, s.loadClients(), s.loadPipeline());
        afterLoad = Footprint.of(d);
        for (Workload w : s.workloads()) {
          if (w == Workload.PIPELINED_PUT && !t.pipelines()) {
            progress.message(t.name() + ": pipelined-put skipped (no AsyncStore)");
            continue;
          }
          results.add(
              runner.run(
                  t,
                  new WorkloadRunner.Phase(
                      w, s.clients(), s.duration(), s.ops(), s.warmup(), keys, valueSize, 1)));
        }
      } finally {
        for (Target t : targets) {
          t.close();
        }
      }
      if (s.recovery() && "keys".equals(curve) && d instanceof ClusterDeployment c) {
        progress.message("embedded: restarting a follower at " + keys.size() + " keys ...");
        restart = c.restartFollower(keys.key(0));
        progress.message(
            String.format(
                Locale.ROOT,
                "embedded: follower %s ready %.0f ms after its restart; adding a member ...",
                restart.member(),
                restart.readyMs()));
        catchUp = c.catchUpNewMember(keys.key(0));
        progress.message(
            String.format(
                Locale.ROOT,
                "embedded: new member %s caught up in %.0f ms (%s)",
                catchUp.member(),
                catchUp.readyMs(),
                catchUp.method()));
      }
    } catch (RuntimeException | LinkageError e) {
      error = WorkloadRunner.describe(e);
      progress.message("FAILED " + d.name() + " " + curve + " step: " + error);
    }
    if (load == null) {
      load = Result.of(d.name(), "load", 0, valueSize, 0, 0, 0, emptyHistogram(), error, null);
    }
    return new Step(
        d.name(),
        curve,
        keys.size(),
        keys.size() - from,
        valueSize,
        load,
        results,
        before,
        afterLoad,
        restart,
        catchUp,
        error);
  }

  private static org.HdrHistogram.Histogram emptyHistogram() {
    return new org.HdrHistogram.Histogram(WorkloadRunner.MAX_LATENCY_NS, 3);
  }

  private Deployment start(String backend, Progress progress) {
    progress.message("starting " + backend + " ...");
    return switch (backend) {
      case "etcd" -> EtcdDeployment.start(s.dataDir(), s.members(), false);
      case "zk" -> ZkDeployment.start(s.dataDir(), s.members());
      case "lmdb" -> LmdbDeployment.start(s.dataDir());
      case "embedded" -> ClusterDeployment.start(s.dataDir(), s.members());
      default -> throw new IllegalArgumentException("unknown backend " + backend);
    };
  }

  /** The 1, 5 and 15 minute load averages ({@code /proc/loadavg}), or the JVM's 1 minute one. */
  static String loadAverages() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return MachineInfo.loadAverage();
    }
  }
}
