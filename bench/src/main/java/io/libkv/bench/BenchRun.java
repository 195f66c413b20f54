package io.libkv.bench;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** One comparison run: starts each backend in turn, loads it, measures it, stops it, reports. */
final class BenchRun {

  /** Everything a run needs; {@link BenchCommand} builds it from the command line. */
  record Settings(
      List<String> backends,
      List<Integer> clients,
      List<Workload> workloads,
      int valueSize,
      int keys,
      Duration duration,
      Duration warmup,
      Duration prime,
      long ops,
      Path out,
      Path dataDir,
      int members,
      boolean rawEtcd,
      int connections,
      EmbeddedDeployment.Mode embeddedMode,
      Map<String, String> embeddedOptions,
      int watchRate,
      int loadClients,
      int fsyncSamples,
      int pipelineDepth,
      List<String> notes,
      String command) {}

  /** What a run produced. */
  record Outcome(Report report, List<Path> files, List<String> failures) {}

  static final List<String> KNOWN_BACKENDS = List.of("embedded", "etcd", "zk", "lmdb");

  private final Settings s;
  private final PrintStream out;

  BenchRun(Settings settings, PrintStream out) {
    this.s = settings;
    this.out = out;
    for (String b : settings.backends()) {
      if (!KNOWN_BACKENDS.contains(b)) {
        throw new IllegalArgumentException(
            "unknown backend '" + b + "', expected some of " + KNOWN_BACKENDS);
      }
    }
  }

  Outcome execute() {
    String started = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    Map<String, String> machine = MachineInfo.describe(s.dataDir());
    FsyncProbe.Fsync fsync = FsyncProbe.measure(s.dataDir(), s.fsyncSamples());
    out.printf(
        Locale.ROOT,
        "fsync floor (4 KiB append + fdatasync in %s): p50 %.3f ms, p99 %.3f ms (%d samples)%n",
        fsync.dir(),
        fsync.p50Us() / 1000,
        fsync.p99Us() / 1000,
        fsync.samples());
    List<Workload> priming = primingWorkloads();
    int perTarget = 1 + priming.size() + s.workloads().size() * s.clients().size();
    int phases = 0;
    for (String b : s.backends()) {
      phases += perTarget * ("etcd".equals(b) && s.rawEtcd() ? 2 : 1);
    }
    Progress progress = Progress.toStderr(phases);
    WorkloadRunner runner = new WorkloadRunner(progress);
    List<Result> results = new ArrayList<>();
    Map<String, String> deployments = new LinkedHashMap<>();
    List<String> failures = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    List<String> leaders = new ArrayList<>();
    String runId = Long.toString(System.currentTimeMillis(), 36);
    KeySpace keys = new KeySpace("bench/" + runId, s.keys());
    boolean needsKeys = s.workloads().stream().anyMatch(w -> w != Workload.WATCH);
    for (String backend : s.backends()) {
      progress.message("starting " + backend + " ...");
      long t0 = System.nanoTime();
      try (Deployment d = start(backend)) {
        String startup = String.format(Locale.ROOT, "%.1f s", (System.nanoTime() - t0) / 1e9);
        progress.message(backend + " started in " + startup);
        deployments.put(d.name(), d.description() + "; started in " + startup);
        List<Target> targets = d.openTargets(s.connections());
        try {
          if (needsKeys) {
            for (Target t : targets) {
              results.add(runner.load(t, keys, s.valueSize(), s.loadClients()));
            }
          }
          prime(runner, progress, targets, priming, keys);
          for (Workload w : s.workloads()) {
            for (int c : s.clients()) {
              for (Target t : targets) {
                if (w == Workload.PIPELINED_PUT && !t.pipelines()) {
                  String why =
                      t.name()
                          + ": pipelined-put skipped, its store does not implement"
                          + " io.libkv.store.AsyncStore";
                  if (!skipped.contains(why)) {
                    skipped.add(why);
                    progress.message(why);
                  }
                  continue;
                }
                String leaderBefore = d.leaderNow();
                results.add(
                    runner.run(
                        t,
                        new WorkloadRunner.Phase(
                            w,
                            c,
                            s.duration(),
                            s.ops(),
                            s.warmup(),
                            keys,
                            s.valueSize(),
                            s.watchRate(),
                            s.pipelineDepth())));
                if (leaderBefore != null) {
                  String leaderAfter = d.leaderNow();
                  leaders.add(
                      t.name()
                          + " "
                          + w.label()
                          + " at "
                          + c
                          + " clients: "
                          + leaderBefore
                          + (leaderAfter.equals(leaderBefore) ? "" : " then " + leaderAfter));
                }
              }
            }
          }
        } finally {
          for (Target t : targets) {
            try {
              t.close();
            } catch (RuntimeException e) {
              progress.message("closing " + t.name() + " failed: " + e);
            }
          }
        }
      } catch (RuntimeException | LinkageError e) {
        // A LinkageError here is a broken class path (e.g. a jar replaced under a running JVM):
        // reported like any other failure of this backend so the other backends still run.
        String msg = backend + ": " + WorkloadRunner.describe(e);
        failures.add(msg);
        progress.message("FAILED " + msg);
      }
    }
    for (Result r : results) {
      if (!r.ok()) {
        failures.add(
            r.target()
                + " "
                + r.workload()
                + " with "
                + r.clients()
                + " clients measured nothing"
                + (r.firstError() == null ? "" : ": " + r.firstError()));
      }
    }
    List<String> notes = new ArrayList<>(s.notes());
    notes.addAll(skipped);
    if (!leaders.isEmpty()) {
      notes.add(
          "who led each phase (asked before and after it; in process, client thread i uses the"
              + " store of member i mod members + 1, so a 1-client phase runs on n1's store, and a"
              + " store on a follower's member sends its writes to the leader): "
              + String.join("; ", leaders));
    }
    notes.add(
        String.format(
            Locale.ROOT,
            "closed loop: each client thread issues its next operation when the previous returns;"
                + " %d keys of %d B loaded first; %s; %s warm-up then %s measured per phase;"
                + " load average at end %s",
            s.keys(),
            s.valueSize(),
            priming.isEmpty()
                ? "no priming (measured from a cold start)"
                : "then every target primed, unmeasured, with "
                    + priming.stream().map(Workload::label).toList()
                    + " at "
                    + maxClients()
                    + " clients for "
                    + human(s.prime())
                    + " in all (so the JVMs' JIT compilers have compiled the request path)",
            human(s.warmup()),
            s.ops() > 0 ? s.ops() + " ops" : human(s.duration()),
            MachineInfo.loadAverage()));
    Report report =
        new Report(s.command(), started, machine, fsync, deployments, notes, failures, results);
    List<Path> files = report.writeTo(s.out());
    out.println();
    out.print(report.markdown());
    out.println("results written to " + s.out().toAbsolutePath());
    return new Outcome(report, files, failures);
  }

  /**
   * The workloads of the priming run: the measured ones that send requests one by one, in their
   * order; none when {@code --prime} is zero.
   */
  private List<Workload> primingWorkloads() {
    if (s.prime().isZero()) {
      return List.of();
    }
    return s.workloads().stream()
        .filter(w -> w != Workload.WATCH && w != Workload.PIPELINED_PUT)
        .toList();
  }

  private int maxClients() {
    return s.clients().stream().mapToInt(Integer::intValue).max().orElse(1);
  }

  /**
   * Runs {@code priming} on every target, unmeasured, for {@code --prime} in all: a JVM (the
   * harness's, and the members' in process mode) compiles the request path in its first tens of
   * seconds, and a phase measured before that measures the JIT compiler. Every backend gets the
   * same priming, so the comparison stays fair.
   */
  private void prime(
      WorkloadRunner runner,
      Progress progress,
      List<Target> targets,
      List<Workload> priming,
      KeySpace keys) {
    if (priming.isEmpty()) {
      return;
    }
    Duration each = s.prime().dividedBy((long) priming.size() * targets.size());
    for (Target t : targets) {
      progress.message(
          "priming " + t.name() + " (unmeasured) for " + human(each.multipliedBy(priming.size())));
      for (Workload w : priming) {
        runner.run(
            t,
            new WorkloadRunner.Phase(
                w, maxClients(), each, 0, Duration.ZERO, keys, s.valueSize(), s.watchRate()));
      }
    }
  }

  static String human(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? (ms / 1000) + " s" : ms + " ms";
  }

  private Deployment start(String backend) {
    return switch (backend) {
      case "etcd" -> EtcdDeployment.start(s.dataDir(), s.members(), s.rawEtcd());
      case "zk" -> ZkDeployment.start(s.dataDir(), s.members());
      case "lmdb" -> LmdbDeployment.start(s.dataDir());
      case "embedded" ->
          EmbeddedDeployment.start(s.dataDir(), s.members(), s.embeddedMode(), s.embeddedOptions());
      default -> throw new IllegalArgumentException("unknown backend " + backend);
    };
  }
}
