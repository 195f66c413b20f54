package io.libkv.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * A finished run: what was measured, on what, and the ratios the README quotes. Writes {@code
 * results.json}, {@code results.md} and, per workload, {@code throughput-<workload>.svg} and {@code
 * latency-<workload>.svg}.
 */
final class Report {
  private final String command;
  private final String startedAt;
  private final Map<String, String> machine;
  private final FsyncProbe.Fsync fsync;
  private final Map<String, String> deployments;
  private final List<String> notes;
  private final List<String> failures;
  private final List<Result> results;

  Report(
      String command,
      String startedAt,
      Map<String, String> machine,
      FsyncProbe.Fsync fsync,
      Map<String, String> deployments,
      List<String> notes,
      List<String> failures,
      List<Result> results) {
    this.command = command;
    this.startedAt = startedAt;
    this.machine = new LinkedHashMap<>(machine);
    this.fsync = fsync;
    this.deployments = new LinkedHashMap<>(deployments);
    this.notes = List.copyOf(notes);
    this.failures = List.copyOf(failures);
    this.results = List.copyOf(results);
  }

  /** Writes every file into {@code dir} and returns the paths written. */
  List<Path> writeTo(Path dir) {
    List<Path> written = new ArrayList<>();
    try {
      Files.createDirectories(dir);
      written.add(write(dir.resolve("results.json"), Json.write(toJson())));
      written.add(write(dir.resolve("results.md"), markdown()));
      for (String workload : workloads()) {
        if ("load".equals(workload)) {
          continue;
        }
        List<Integer> clients = clientCounts(workload);
        List<String> targets = targets(workload);
        List<SvgChart.Series> tput = new ArrayList<>();
        List<SvgChart.LatencySeries> lat = new ArrayList<>();
        for (String t : targets) {
          double[] ops = new double[clients.size()];
          double[] p50 = new double[clients.size()];
          double[] p99 = new double[clients.size()];
          double[] p999 = new double[clients.size()];
          for (int i = 0; i < clients.size(); i++) {
            Optional<Result> r = find(t, workload, clients.get(i));
            ops[i] = r.map(Result::opsPerSec).orElse(Double.NaN);
            p50[i] = r.map(x -> x.p50Us() / 1000).orElse(Double.NaN);
            p99[i] = r.map(x -> x.p99Us() / 1000).orElse(Double.NaN);
            p999[i] = r.map(x -> x.p999Us() / 1000).orElse(Double.NaN);
          }
          tput.add(new SvgChart.Series(t, ops));
          lat.add(new SvgChart.LatencySeries(t, p50, p99, p999));
        }
        String what = "watch".equals(workload) ? "watch events delivered" : workload;
        written.add(
            write(
                dir.resolve("throughput-" + workload + ".svg"),
                SvgChart.throughput("Throughput: " + what, clients, tput)));
        written.add(
            write(
                dir.resolve("latency-" + workload + ".svg"),
                SvgChart.latency("Latency: " + what, clients, lat)));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + dir, e);
    }
    return written;
  }

  private static Path write(Path p, String text) throws IOException {
    Files.writeString(p, text, StandardCharsets.UTF_8);
    return p;
  }

  Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("command", command);
    m.put("startedAt", startedAt);
    m.put("machine", machine);
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("what", "4 KiB append + FileChannel.force(false) (fdatasync)");
    f.put("dir", fsync.dir());
    f.put("samples", fsync.samples());
    f.put("p50Us", fsync.p50Us());
    f.put("p99Us", fsync.p99Us());
    f.put("meanUs", fsync.meanUs());
    f.put("maxUs", fsync.maxUs());
    m.put("fsync", f);
    m.put("deployments", deployments);
    m.put("notes", notes);
    m.put("failures", failures);
    List<Object> rs = new ArrayList<>();
    for (Result r : results) {
      rs.add(json(r));
    }
    m.put("results", rs);
    List<Object> ratios = new ArrayList<>();
    for (Ratio r : ratios()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("name", r.name());
      x.put("value", r.value());
      x.put("detail", r.detail());
      ratios.add(x);
    }
    m.put("ratios", ratios);
    return m;
  }

  /** One result as a JSON object. */
  static Map<String, Object> json(Result r) {
    Map<String, Object> x = new LinkedHashMap<>();
    x.put("target", r.target());
    x.put("workload", r.workload());
    x.put("clients", r.clients());
    x.put("valueSize", r.valueSize());
    x.put("seconds", r.seconds());
    x.put("ops", r.ops());
    x.put("errors", r.errors());
    x.put("conflicts", r.conflicts());
    x.put("opsPerSec", r.opsPerSec());
    x.put("meanUs", r.meanUs());
    x.put("p50Us", r.p50Us());
    x.put("p90Us", r.p90Us());
    x.put("p99Us", r.p99Us());
    x.put("p999Us", r.p999Us());
    x.put("maxUs", r.maxUs());
    x.put("firstError", r.firstError());
    x.put("extra", r.extra());
    return x;
  }

  /** A figure derived from two measured numbers of this run. */
  record Ratio(String name, double value, String detail) {}

  List<Ratio> ratios() {
    List<Ratio> out = new ArrayList<>();
    for (String w : List.of("put", "get", "mixed", "cas")) {
      for (int c : clientCounts(w)) {
        Optional<Result> emb = find("embedded", w, c);
        Optional<Result> etcd = find("etcd", w, c);
        if (emb.isPresent() && etcd.isPresent() && emb.get().ok() && etcd.get().ok()) {
          out.add(
              new Ratio(
                  String.format(Locale.ROOT, "embedded/etcd %s throughput, %d clients", w, c),
                  emb.get().opsPerSec() / etcd.get().opsPerSec(),
                  String.format(
                      Locale.ROOT,
                      "%.0f vs %.0f ops/s; p99 %.2f vs %.2f ms",
                      emb.get().opsPerSec(),
                      etcd.get().opsPerSec(),
                      emb.get().p99Us() / 1000,
                      etcd.get().p99Us() / 1000)));
        }
        Optional<Result> raw = find("etcd-raw", w, c);
        if (raw.isPresent() && etcd.isPresent() && raw.get().ok() && etcd.get().ok()) {
          out.add(
              new Ratio(
                  String.format(
                      Locale.ROOT, "etcd adapter/raw jetcd %s throughput, %d clients", w, c),
                  etcd.get().opsPerSec() / raw.get().opsPerSec(),
                  String.format(
                      Locale.ROOT,
                      "%.0f vs %.0f ops/s; p50 %.3f vs %.3f ms",
                      etcd.get().opsPerSec(),
                      raw.get().opsPerSec(),
                      etcd.get().p50Us() / 1000,
                      raw.get().p50Us() / 1000)));
        }
      }
    }
    for (String t : targets("pipelined-put")) {
      for (int c : clientCounts("pipelined-put")) {
        Optional<Result> pp = find(t, "pipelined-put", c);
        Optional<Result> put = find(t, "put", c);
        if (pp.isPresent() && put.isPresent() && pp.get().ok() && put.get().ok()) {
          out.add(
              new Ratio(
                  String.format(
                      Locale.ROOT, "%s pipelined/blocking put throughput, %d clients", t, c),
                  pp.get().opsPerSec() / put.get().opsPerSec(),
                  String.format(
                      Locale.ROOT,
                      "%.0f vs %.0f ops/s; p99 %.2f vs %.2f ms",
                      pp.get().opsPerSec(),
                      put.get().opsPerSec(),
                      pp.get().p99Us() / 1000,
                      put.get().p99Us() / 1000)));
        }
      }
    }
    for (String t : targets("put")) {
      Optional<Result> one = find(t, "put", 1);
      if (one.isPresent() && one.get().ok()) {
        out.add(
            new Ratio(
                "single-client put p50 minus fsync p50 (ms), " + t,
                (one.get().p50Us() - fsync.p50Us()) / 1000,
                String.format(
                    Locale.ROOT,
                    "put p50 %.3f ms, fsync p50 %.3f ms",
                    one.get().p50Us() / 1000,
                    fsync.p50Us() / 1000)));
      }
    }
    return out;
  }

  String markdown() {
    StringBuilder sb = new StringBuilder();
    sb.append("# libkv-java benchmark results\n\n");
    sb.append("Generated by `libkv bench` on ").append(startedAt).append(". Command:\n\n");
    sb.append("```\n").append(command).append("\n```\n\n");
    sb.append("## Machine\n\n");
    for (Map.Entry<String, String> e : machine.entrySet()) {
      sb.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
    }
    sb.append(
        String.format(
            Locale.ROOT,
            "- fsync floor (4 KiB append + fdatasync in %s, %d samples): p50 %.3f ms, p99 %.3f"
                + " ms, max %.3f ms\n\n",
            fsync.dir(),
            fsync.samples(),
            fsync.p50Us() / 1000,
            fsync.p99Us() / 1000,
            fsync.maxUs() / 1000));
    appendSections(sb, deployments, notes, failures);
    for (String w : workloads()) {
      sb.append("## ").append(w).append("\n\n");
      sb.append(
          "| target | clients | ops/s | p50 ms | p99 ms | p99.9 ms | max ms | ops | errors |"
              + " conflicts |\n");
      sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      for (Result r : results) {
        if (!r.workload().equals(w)) {
          continue;
        }
        sb.append(
            String.format(
                Locale.ROOT,
                "| %s | %d | %,.0f | %s | %s | %s | %s | %,d | %d | %d |\n",
                r.target(),
                r.clients(),
                r.opsPerSec(),
                ms(r.p50Us()),
                ms(r.p99Us()),
                ms(r.p999Us()),
                ms(r.maxUs()),
                r.ops(),
                r.errors(),
                r.conflicts()));
      }
      for (Result r : results) {
        if (r.workload().equals(w) && (r.extra() != null || r.firstError() != null)) {
          sb.append("\n- ")
              .append(r.target())
              .append(", ")
              .append(r.clients())
              .append(" clients: ");
          if (r.extra() != null) {
            sb.append(r.extra());
          }
          if (r.firstError() != null) {
            sb.append(r.extra() != null ? "; " : "").append("first error: ").append(r.firstError());
          }
        }
      }
      sb.append('\n');
      if (!"load".equals(w)) {
        sb.append("\n![throughput](throughput-").append(w).append(".svg) ");
        sb.append("![latency](latency-").append(w).append(".svg)\n\n");
      }
    }
    List<Ratio> ratios = ratios();
    if (!ratios.isEmpty()) {
      sb.append("## Ratios\n\n| figure | value | from |\n|---|---:|---|\n");
      for (Ratio r : ratios) {
        sb.append(
            String.format(Locale.ROOT, "| %s | %.2f | %s |\n", r.name(), r.value(), r.detail()));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /** Microseconds as milliseconds, with enough decimals for sub-microsecond LMDB reads. */
  static String ms(double us) {
    double ms = us / 1000;
    return String.format(Locale.ROOT, ms < 0.01 ? "%.4f" : "%.3f", ms);
  }

  private List<String> workloads() {
    LinkedHashSet<String> w = new LinkedHashSet<>();
    for (Result r : results) {
      w.add(r.workload());
    }
    return new ArrayList<>(w);
  }

  private List<String> targets(String workload) {
    LinkedHashSet<String> t = new LinkedHashSet<>();
    for (Result r : results) {
      if (r.workload().equals(workload)) {
        t.add(r.target());
      }
    }
    return new ArrayList<>(t);
  }

  private List<Integer> clientCounts(String workload) {
    TreeSet<Integer> c = new TreeSet<>();
    for (Result r : results) {
      if (r.workload().equals(workload)) {
        c.add(r.clients());
      }
    }
    return new ArrayList<>(c);
  }

  private Optional<Result> find(String target, String workload, int clients) {
    return results.stream()
        .filter(
            r ->
                r.target().equals(target)
                    && r.workload().equals(workload)
                    && r.clients() == clients)
        .findFirst();
  }

  /**
   * Appends the "What ran", "Notes" and "Failures" sections shared by every results file, each only
   * when it has entries.
   */
  static void appendSections(
      StringBuilder sb,
      Map<String, String> deployments,
      List<String> notes,
      List<String> failures) {
    List<String> ran = new java.util.ArrayList<>();
    deployments.forEach((name, what) -> ran.add("**" + name + "**: " + what));
    bullets(sb, "What ran", ran);
    bullets(sb, "Notes", notes);
    bullets(sb, "Failures", failures);
  }

  private static void bullets(StringBuilder sb, String title, List<String> items) {
    if (items.isEmpty()) {
      return;
    }
    sb.append("## ").append(title).append("\n\n");
    for (String item : items) {
      sb.append("- ").append(item).append('\n');
    }
    sb.append('\n');
  }
}
