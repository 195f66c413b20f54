package io.libkv.bench;

import io.libkv.spi.Durations;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code libkv bench}: runs the same workload against each backend (started on loopback by the
 * harness) through the {@code Store} API, and against etcd also through raw jetcd; writes {@code
 * results.json}, {@code results.md} and SVG charts to {@code --out}. {@code libkv bench jmh} runs
 * the JMH microbenchmarks.
 *
 * <p>Register it as a subcommand ({@code subcommands = BenchCommand.class}) or run it alone with
 * {@link #main(String[])}. The JVM needs the flags in {@link io.libkv.spi.JvmAccess#REQUIRED_FLAGS}
 * for the LMDB and embedded backends.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Benchmarks backends side by side through the Store API (and etcd through raw jetcd).",
      "Starts every server it needs on 127.0.0.1 free ports and stops them after.",
      "Example: bench --backends embedded,etcd,zk,lmdb --clients 1,64,512 --value-size 256"
          + " --keys 100000 --workload put,get --duration 30s --out bench/results"
    },
    subcommands = {BenchCommand.Jmh.class, ScaleCommand.class, TraceCommand.class})
public final class BenchCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--backends",
      split = ",",
      defaultValue = "embedded,etcd,zk,lmdb",
      description =
          "Backends to run, in order: embedded, etcd, zk, lmdb (default: ${DEFAULT-VALUE}).")
  List<String> backends;

  @Option(
      names = "--clients",
      split = ",",
      defaultValue = "1,64,512",
      description = "Client thread counts; each is one phase (default: ${DEFAULT-VALUE}).")
  List<Integer> clients;

  @Option(
      names = "--workload",
      split = ",",
      defaultValue = "put",
      description =
          "put, pipelined-put (AsyncStore backends only), get, cas, mixed (90%% get) or watch;"
              + " several separated by commas"
              + " (default: ${DEFAULT-VALUE}).")
  List<String> workloads;

  @Option(
      names = "--value-size",
      defaultValue = "256",
      description = "Value bytes (default: ${DEFAULT-VALUE}).")
  int valueSize;

  @Option(
      names = "--keys",
      defaultValue = "100000",
      description = "Keys loaded before measuring (default: ${DEFAULT-VALUE}).")
  int keys;

  @Option(
      names = "--duration",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description = "Measured time per phase, e.g. 500ms, 30s, 2m (default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(
      names = "--warmup",
      defaultValue = "3s",
      converter = DurationConverter.class,
      description = "Unmeasured warm-up per phase (default: ${DEFAULT-VALUE}).")
  Duration warmup;

  @Option(
      names = "--prime",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description =
          "Before the first measured phase, run the workloads (not watch or pipelined-put) on"
              + " every target, unmeasured, at the largest --clients, this long in all: a JVM"
              + " compiles its request path in its first tens of seconds (default:"
              + " ${DEFAULT-VALUE}; 0s measures from a cold start).")
  Duration prime;

  @Option(
      names = "--ops",
      defaultValue = "0",
      description =
          "Measure this many operations per phase instead of a duration (0: use --duration).")
  long ops;

  @Option(
      names = "--out",
      defaultValue = "bench/results",
      description = "Results directory (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--data-dir",
      description = "Where servers keep their data and fsync is probed (default: java.io.tmpdir).")
  Path dataDir;

  @Option(
      names = "--members",
      defaultValue = "3",
      description =
          "Members of the etcd, ZooKeeper and embedded clusters (default: ${DEFAULT-VALUE}).")
  int members;

  @Option(
      names = "--raw-etcd",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description = "Also run each etcd phase through raw jetcd (default: ${DEFAULT-VALUE}).")
  boolean rawEtcd;

  @Option(
      names = "--connections",
      defaultValue = "1",
      description =
          "Store clients per backend to spread the threads over (default: ${DEFAULT-VALUE}).")
  int connections;

  @Option(
      names = "--embedded-mode",
      defaultValue = "process",
      description =
          "process (each node a child JVM, the harness a client) or in-process"
              + " (default: ${DEFAULT-VALUE}).")
  String embeddedMode;

  @Option(
      names = "--watch-rate",
      defaultValue = "1000",
      description =
          "Puts per second to the watched key in the watch workload (default: ${DEFAULT-VALUE}).")
  int watchRate;

  @Option(
      names = "--pipeline",
      defaultValue = "32",
      description =
          "Puts each client keeps in flight in the pipelined-put workload"
              + " (default: ${DEFAULT-VALUE}).")
  int pipelineDepth;

  @Option(
      names = "--load-clients",
      defaultValue = "64",
      description = "Threads that load the keys (default: ${DEFAULT-VALUE}).")
  int loadClients;

  @Option(
      names = "--fsync-samples",
      defaultValue = "200",
      description = "fsync probe samples (default: ${DEFAULT-VALUE}).")
  int fsyncSamples;

  @Option(
      names = "--embedded-option",
      description =
          "An embedded.* option (see the raft module's README) for the embedded members and"
              + " stores, NAME=VALUE, e.g. embedded.transport=netty (repeatable).")
  Map<String, String> embeddedOptions = new java.util.LinkedHashMap<>();

  @Option(names = "--note", description = "A note to print with the results (repeatable).")
  List<String> notes = new ArrayList<>();

  /** Runs {@code bench} alone and exits with its status. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new BenchCommand()).execute(args));
  }

  @Override
  public Integer call() {
    List<Workload> ws = workloads.stream().map(Workload::parse).toList();
    EmbeddedDeployment.Mode mode =
        switch (embeddedMode.toLowerCase(Locale.ROOT)) {
          case "process" -> EmbeddedDeployment.Mode.PROCESS;
          case "in-process", "inprocess" -> EmbeddedDeployment.Mode.IN_PROCESS;
          default ->
              throw new CommandLine.ParameterException(
                  spec.commandLine(), "--embedded-mode must be process or in-process");
        };
    if (valueSize < 8) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--value-size must be at least 8 (the watch timestamp)");
    }
    if (pipelineDepth < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--pipeline must be >= 1");
    }
    for (int c : clients) {
      if (c < 1) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--clients must be >= 1");
      }
    }
    List<String> bs = backends.stream().map(b -> b.trim().toLowerCase(Locale.ROOT)).toList();
    for (String b : bs) {
      if (!BenchRun.KNOWN_BACKENDS.contains(b)) {
        throw new CommandLine.ParameterException(
            spec.commandLine(),
            "unknown backend '" + b + "', expected some of " + BenchRun.KNOWN_BACKENDS);
      }
    }
    Path data = dataDir != null ? dataDir : Path.of(System.getProperty("java.io.tmpdir"));
    List<String> shown = new ArrayList<>();
    List<String> original = spec.commandLine().getParseResult().originalArgs();
    // Through ./libkv the arguments start with the "bench" that chose this command.
    int first = !original.isEmpty() && original.get(0).equals("bench") ? 1 : 0;
    for (String a : original.subList(first, original.size())) {
      shown.add(a.matches("[A-Za-z0-9_./,:=@%+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
    }
    String command = "./libkv bench " + String.join(" ", shown);
    BenchRun.Settings settings =
        new BenchRun.Settings(
            bs,
            List.copyOf(clients),
            ws,
            valueSize,
            keys,
            duration,
            warmup,
            prime,
            ops,
            out,
            data,
            members,
            rawEtcd,
            Math.max(1, connections),
            mode,
            Map.copyOf(embeddedOptions),
            watchRate,
            loadClients,
            fsyncSamples,
            pipelineDepth,
            List.copyOf(notes),
            command);
    BenchRun.Outcome outcome = new BenchRun(settings, System.out).execute();
    return outcome.failures().isEmpty() ? 0 : 1;
  }

  /** {@code libkv bench jmh}: the JMH microbenchmarks, in forked JVMs with the needed flags. */
  @Command(
      name = "jmh",
      mixinStandardHelpOptions = true,
      description =
          "Runs the JMH microbenchmarks (LMDB store vs raw lmdbjava, codec, engine batch,"
              + " watch fan-out, locks).")
  static final class Jmh implements Callable<Integer> {
    @Option(
        names = "--include",
        defaultValue = ".*",
        description = "Regex of benchmarks to run (default: all).")
    String include;

    @Option(
        names = "--forks",
        defaultValue = "1",
        description = "JVM forks per benchmark (default: ${DEFAULT-VALUE}).")
    int forks;

    @Option(
        names = "--warmup-iterations",
        defaultValue = "2",
        description = "(default: ${DEFAULT-VALUE})")
    int warmupIterations;

    @Option(names = "--iterations", defaultValue = "3", description = "(default: ${DEFAULT-VALUE})")
    int iterations;

    @Option(
        names = "--time",
        defaultValue = "2s",
        converter = DurationConverter.class,
        description = "Time per iteration (default: ${DEFAULT-VALUE}).")
    Duration time;

    @Option(
        names = "--out",
        defaultValue = "bench/results",
        description = "Directory for jmh.json and jmh.md (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--list", description = "List the benchmarks and exit.")
    boolean list;

    @Override
    public Integer call() {
      return JmhMain.run(include, forks, warmupIterations, iterations, time, out, list);
    }
  }

  /** Reads a duration flag with the project's one duration reader ({@link Durations#parse}). */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return Durations.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
