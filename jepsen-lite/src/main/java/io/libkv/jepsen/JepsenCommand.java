package io.libkv.jepsen;

import io.libkv.spi.Durations;
import io.libkv.store.Backend;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code libkv jepsen}: runs the embedded store as a cluster of separate processes on loopback,
 * injects faults while clients run register, set, lock and watch workloads, and prints operations,
 * faults, the verdict of each workload and the acknowledged writes lost. Exit code 0 only if every
 * workload passed (a checker that ran out of time or memory is a failure).
 *
 * <p>Example: {@code ./libkv jepsen --nemesis partition,kill,pause,clock --time 120s --seed 42}. A
 * run is replayed (same fault schedule, same client choices) by passing the seed it printed.
 */
@Command(
    name = "jepsen",
    mixinStandardHelpOptions = true,
    description =
        "Fault-inject a local embedded cluster and check linearizability and lost writes.")
public final class JepsenCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--nemesis",
      split = ",",
      defaultValue = "partition,kill,pause,clock",
      description =
          "Faults to inject, comma-separated: partition, isolate, kill, crash (needs cc),"
              + " pause, clock, process-clock (needs libfaketime), member"
              + " (or none).")
  List<String> nemeses;

  @Option(
      names = "--time",
      defaultValue = "60s",
      converter = DurationConverter.class,
      description =
          "How long the workloads run under faults, e.g. 120s, 2m (default ${DEFAULT-VALUE});"
              + " a minimum: the first round of faults, every nemesis once, always completes.")
  Duration time;

  @Option(
      names = "--seed",
      description = "Seed of the fault schedule and clients (default random).")
  Long seed;

  @Option(names = "--nodes", defaultValue = "3", description = "Cluster size (default 3).")
  int nodes;

  @Option(names = "--keys", defaultValue = "8", description = "Register keys (default 8).")
  int keys;

  @Option(
      names = "--clients",
      defaultValue = "2",
      description = "Register clients per node (default 2).")
  int clients;

  @Option(
      names = "--reads",
      defaultValue = "linearizable",
      description =
          "embedded.reads of the nodes: linearizable, or stale to see the checker catch it.")
  String reads;

  @Option(
      names = "--backend",
      defaultValue = "embedded",
      description =
          "embedded (default); etcd: the reference run against a real etcd cluster"
              + " (/usr/bin/etcd; nemeses kill and pause only); lmdb: one LMDB node, to check"
              + " the harness (e.g. --node-option lmdb.sync=false --nemesis crash loses writes).")
  String backend;

  @Option(
      names = "--node-option",
      description =
          "A store option for every node, name=value (repeatable), e.g."
              + " embedded.snapshotThreshold=200 or lmdb.sync=false.")
  List<String> nodeOptions;

  @Option(
      names = "--dir",
      description = "Where node data, logs and the checker's report go (default a new temp dir).")
  Path dir;

  @Option(
      names = "--check",
      description =
          "Only check a saved register history (history.txt of an earlier run) and exit;"
              + " the report goes to --dir or next to the file.")
  Path check;

  /** Creates the command; picocli fills in the options. */
  public JepsenCommand() {}

  @Override
  public Integer call() throws Exception {
    PrintStream out = spec == null ? System.out : new PrintStream(System.out, true);
    if (check != null) {
      return checkOnly(out);
    }
    long s = seed != null ? seed : ThreadLocalRandom.current().nextLong();
    Path d = dir != null ? dir : Files.createTempDirectory("libkv-jepsen-");
    List<String> n = nemeses.size() == 1 && "none".equals(nemeses.get(0)) ? List.of() : nemeses;
    Backend b =
        switch (backend.toLowerCase(Locale.ROOT)) {
          case "embedded" -> Backend.EMBEDDED;
          case "etcd" -> Backend.ETCD;
          case "lmdb" -> Backend.LMDB;
          default ->
              throw new IllegalArgumentException(
                  "--backend must be embedded, etcd or lmdb, was '" + backend + "'");
        };
    if (b == Backend.ETCD && !List.of("kill", "pause").containsAll(n)) {
      throw new IllegalArgumentException(
          "the etcd reference run supports the nemeses kill and pause only (etcd's peer links"
              + " cannot be routed through the proxies, and its leases use the server's clock);"
              + " was "
              + n);
    }
    JepsenRun.Report r = new JepsenRun(options(b, s, d, n), out).run();
    out.println(r.faults().size() + " faults:");
    r.faults().forEach(out::println);
    return r.passed() ? 0 : 1;
  }

  private int checkOnly(PrintStream out) throws IOException {
    List<Op> ops =
        Files.readAllLines(check, StandardCharsets.UTF_8).stream()
            .filter(l -> !l.isBlank())
            .map(Op::parse)
            .toList();
    Path d = dir != null ? dir : check.toAbsolutePath().getParent().resolve("checker-again");
    LinearizabilityChecker.Result r = LinearizabilityChecker.defaults().check(ops);
    r.writeReport(d);
    out.println("register: " + r.verdict() + " (" + ops.size() + " ops)");
    r.problems().forEach(k -> out.println("  " + k.key() + " " + k.verdict() + " " + k.why()));
    out.println("report in " + d);
    return r.verdict() == Verdict.VALID ? 0 : 1;
  }

  private JepsenRun.Options options(Backend b, long s, Path d, List<String> n) {
    Map<String, String> storeOptions = new java.util.TreeMap<>();
    if (b == Backend.EMBEDDED) {
      storeOptions.put("embedded.reads", reads.toLowerCase(Locale.ROOT));
      storeOptions.put("embedded.electionTimeoutMs", "1000");
    }
    for (String kv : nodeOptions == null ? List.<String>of() : nodeOptions) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--node-option needs name=value, was '" + kv + "'");
      }
      storeOptions.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return new JepsenRun.Options(
        b,
        b == Backend.LMDB ? 1 : nodes,
        time,
        s,
        n,
        d,
        storeOptions,
        keys,
        clients,
        true,
        true,
        true,
        3000,
        6000,
        5000);
  }

  /** Reads a duration flag with the project's one duration reader ({@link Durations#parse}). */
  static final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String v) {
      return Durations.parse(v);
    }
  }
}
