package io.libkv.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code libkv bench scale}: the scale curves (throughput and p99 by data size and by value size,
 * disk and resident bytes per key, embedded restart-to-ready and new-member catch-up times). Writes
 * {@code scale.json}, {@code scale.md} and SVG charts to {@code --out}.
 */
@Command(
    name = "scale",
    mixinStandardHelpOptions = true,
    description = {
      "Scale curves: throughput and p99 as the data grows and as values grow, disk and memory per"
          + " key, embedded restart-to-ready and new-member catch-up times.",
      "Example: bench scale --backends embedded,lmdb,etcd,zk --keys 10000,100000,1000000"
          + " --max-keys etcd=100000,zk=100000 --value-sizes 16,256,4096,65536"
          + " --out bench/results/scale"
    })
final class ScaleCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--backends",
      split = ",",
      defaultValue = "embedded,lmdb,etcd,zk",
      description = "Backends, in order: embedded, etcd, zk, lmdb (default: ${DEFAULT-VALUE}).")
  List<String> backends;

  @Option(
      names = "--keys",
      split = ",",
      defaultValue = "10000,100000,1000000",
      description =
          "Data-size steps: the key space grows to each size in turn (default: ${DEFAULT-VALUE}).")
  List<Integer> keySteps;

  @Option(
      names = "--max-keys",
      split = ",",
      description =
          "Per backend, the largest data-size step to run, e.g. etcd=100000,zk=100000"
              + " (default: every step for every backend).")
  Map<String, Integer> maxKeys = new LinkedHashMap<>();

  @Option(
      names = "--value-size",
      defaultValue = "256",
      description = "Value bytes on the data-size curve (default: ${DEFAULT-VALUE}).")
  int valueSize;

  @Option(
      names = "--value-sizes",
      split = ",",
      defaultValue = "16,256,4096,65536",
      description = "Value-size steps, each on its own keys (default: ${DEFAULT-VALUE}).")
  List<Integer> valueSizes;

  @Option(
      names = "--value-keys",
      defaultValue = "2000",
      description = "Keys of each value size (default: ${DEFAULT-VALUE}).")
  int valueKeys;

  @Option(
      names = "--clients",
      defaultValue = "64",
      description = "Client threads in every measured phase (default: ${DEFAULT-VALUE}).")
  int clients;

  @Option(
      names = "--workload",
      split = ",",
      defaultValue = "put,get",
      description =
          "Measured at each step: put, pipelined-put, get, cas, mixed (default:"
              + " ${DEFAULT-VALUE}).")
  List<String> workloads;

  @Option(
      names = "--duration",
      defaultValue = "10s",
      converter = BenchCommand.DurationConverter.class,
      description = "Measured time per phase (default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(
      names = "--ops",
      defaultValue = "0",
      description =
          "Measure this many operations per phase instead of a duration (0: use --duration).")
  long ops;

  @Option(
      names = "--warmup",
      defaultValue = "2s",
      converter = BenchCommand.DurationConverter.class,
      description = "Unmeasured warm-up per phase (default: ${DEFAULT-VALUE}).")
  Duration warmup;

  @Option(
      names = "--members",
      defaultValue = "3",
      description =
          "Members of the embedded, etcd and ZooKeeper clusters (default: ${DEFAULT-VALUE}).")
  int members;

  @Option(
      names = "--load-clients",
      defaultValue = "256",
      description = "Threads that load the keys (default: ${DEFAULT-VALUE}).")
  int loadClients;

  @Option(
      names = "--load-pipeline",
      defaultValue = "16",
      description =
          "Puts each loader thread keeps in flight where the store implements AsyncStore; 0 loads"
              + " with blocking puts (default: ${DEFAULT-VALUE}).")
  int loadPipeline;

  @Option(
      names = "--recovery",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Time an embedded follower's restart and a new member's catch-up after each data-size"
              + " step (default: ${DEFAULT-VALUE}).")
  boolean recovery;

  @Option(
      names = "--out",
      defaultValue = "bench/results/scale",
      description = "Results directory (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--data-dir",
      description = "Where servers keep their data (default: java.io.tmpdir).")
  Path dataDir;

  @Option(names = "--note", description = "A note to print with the results (repeatable).")
  List<String> notes = new ArrayList<>();

  @Override
  public Integer call() {
    List<Workload> ws = workloads.stream().map(Workload::parse).toList();
    if (ws.contains(Workload.WATCH)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "the scale run measures put, pipelined-put, get, cas or mixed");
    }
    if (clients < 1 || loadClients < 1 || members < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--clients, --load-clients and --members must be >= 1");
    }
    for (int k : keySteps) {
      if (k < 1) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--keys must be >= 1");
      }
    }
    if (valueKeys < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--value-keys must be >= 1");
    }
    for (int v : valueSizes) {
      if (v < 8) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--value-sizes must be at least 8 bytes");
      }
    }
    if (valueSize < 8) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--value-size must be at least 8 bytes");
    }
    List<String> bs = backends.stream().map(b -> b.trim().toLowerCase(Locale.ROOT)).toList();
    for (String b : bs) {
      if (!BenchRun.KNOWN_BACKENDS.contains(b)) {
        throw new CommandLine.ParameterException(
            spec.commandLine(),
            "unknown backend '" + b + "', expected some of " + BenchRun.KNOWN_BACKENDS);
      }
    }
    Map<String, Integer> max = new LinkedHashMap<>();
    maxKeys.forEach((k, v) -> max.put(k.trim().toLowerCase(Locale.ROOT), v));
    Path data = dataDir != null ? dataDir : Path.of(System.getProperty("java.io.tmpdir"));
    List<String> shown = new ArrayList<>();
    List<String> original = spec.commandLine().getParseResult().originalArgs();
    // Through ./libkv the arguments start with the "bench" that chose this command.
    int first = !original.isEmpty() && original.get(0).equals("bench") ? 1 : 0;
    for (String a : original.subList(first, original.size())) {
      shown.add(a.matches("[A-Za-z0-9_./,:=@%+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
    }
    ScaleRun.Settings settings =
        new ScaleRun.Settings(
            bs,
            List.copyOf(keySteps),
            max,
            valueSize,
            List.copyOf(valueSizes),
            valueKeys,
            clients,
            ws,
            duration,
            Math.max(0, ops),
            warmup,
            out,
            data,
            members,
            loadClients,
            Math.max(0, loadPipeline),
            recovery,
            List.copyOf(notes),
            "./libkv bench " + String.join(" ", shown));
    ScaleRun.Outcome outcome = new ScaleRun(settings, System.out).execute();
    return outcome.failures().isEmpty() ? 0 : 1;
  }
}
