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
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * A finished scale run. Writes {@code scale.json}, {@code scale.md} and SVG charts: per workload
 * and curve the throughput and p99 ({@code scale-keys-put-throughput.svg}, {@code
 * scale-values-get-p99.svg}, ...), and the embedded restart and catch-up times ({@code
 * scale-embedded-recovery.svg}).
 */
final class ScaleReport {
  private final String command;
  private final String startedAt;
  private final Map<String, String> machine;
  private final String loadAtStart;
  private final String loadAtEnd;
  private final int clients;
  private final Map<String, String> deployments;
  private final List<String> notes;
  private final List<String> failures;
  private final List<ScaleRun.Step> steps;

  ScaleReport(
      String command,
      String startedAt,
      Map<String, String> machine,
      String loadAtStart,
      String loadAtEnd,
      int clients,
      Map<String, String> deployments,
      List<String> notes,
      List<String> failures,
      List<ScaleRun.Step> steps) {
    this.command = command;
    this.startedAt = startedAt;
    this.machine = new LinkedHashMap<>(machine);
    this.loadAtStart = loadAtStart;
    this.loadAtEnd = loadAtEnd;
    this.clients = clients;
    this.deployments = new LinkedHashMap<>(deployments);
    this.notes = List.copyOf(notes);
    this.failures = List.copyOf(failures);
    this.steps = List.copyOf(steps);
  }

  List<ScaleRun.Step> steps() {
    return steps;
  }

  /** Writes every file into {@code dir} and returns the paths written. */
  List<Path> writeTo(Path dir) {
    List<Path> written = new ArrayList<>();
    try {
      Files.createDirectories(dir);
      written.add(write(dir.resolve("scale.json"), Json.write(toJson())));
      written.add(write(dir.resolve("scale.md"), markdown()));
      for (String curve : List.of("keys", "values")) {
        List<Integer> xs = xs(curve);
        if (xs.isEmpty()) {
          continue;
        }
        List<String> labels = xs.stream().map(x -> label(curve, x)).toList();
        String xLabel =
            "keys".equals(curve)
                ? "keys stored"
                : "value size (" + firstKeys("values") + " keys of each size)";
        for (String w : workloads()) {
          List<SvgChart.Series> tput = new ArrayList<>();
          List<SvgChart.Series> p99 = new ArrayList<>();
          for (String b : backends(curve)) {
            tput.add(series(b, curve, xs, r -> r.opsPerSec(), w));
            p99.add(series(b, curve, xs, r -> r.p99Us() / 1000, w));
          }
          written.add(
              write(
                  dir.resolve("scale-" + curve + "-" + w + "-throughput.svg"),
                  SvgChart.lines(
                      "Throughput of "
                          + w
                          + " by "
                          + (curve.equals("keys") ? "data" : "value")
                          + " size, "
                          + clients
                          + " clients",
                      labels,
                      xLabel,
                      "operations / s",
                      tput,
                      SvgChart::formatCount,
                      " ops/s")));
          written.add(
              write(
                  dir.resolve("scale-" + curve + "-" + w + "-p99.svg"),
                  SvgChart.lines(
                      "p99 latency of "
                          + w
                          + " by "
                          + (curve.equals("keys") ? "data" : "value")
                          + " size, "
                          + clients
                          + " clients",
                      labels,
                      xLabel,
                      "p99 latency (ms)",
                      p99,
                      SvgChart::formatMs,
                      " ms")));
        }
      }
      List<ScaleRun.Step> rec = recoverySteps();
      if (!rec.isEmpty()) {
        List<String> labels = rec.stream().map(st -> label("keys", st.keys())).toList();
        double[] restart = new double[rec.size()];
        double[] catchUp = new double[rec.size()];
        for (int i = 0; i < rec.size(); i++) {
          restart[i] = rec.get(i).restart() == null ? Double.NaN : rec.get(i).restart().readyMs();
          catchUp[i] = rec.get(i).catchUp() == null ? Double.NaN : rec.get(i).catchUp().readyMs();
        }
        written.add(
            write(
                dir.resolve("scale-embedded-recovery.svg"),
                SvgChart.lines(
                    "Embedded: restart-to-ready and new-member catch-up by data size",
                    labels,
                    "keys stored",
                    "ms",
                    List.of(
                        new SvgChart.Series("follower restart to ready", restart),
                        new SvgChart.Series("new member caught up", catchUp)),
                    SvgChart::formatMs,
                    " ms")));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + dir, e);
    }
    return written;
  }

  private SvgChart.Series series(
      String backend, String curve, List<Integer> xs, ToDoubleFunction<Result> f, String w) {
    double[] v = new double[xs.size()];
    for (int i = 0; i < xs.size(); i++) {
      v[i] = Double.NaN;
      for (ScaleRun.Step st : steps) {
        if (st.backend().equals(backend) && st.curve().equals(curve) && x(st) == xs.get(i)) {
          Result r = st.result(w);
          if (r != null && r.ok()) {
            v[i] = f.applyAsDouble(r);
          }
        }
      }
    }
    return new SvgChart.Series(backend, v);
  }

  private static int x(ScaleRun.Step st) {
    return "keys".equals(st.curve()) ? st.keys() : st.valueSize();
  }

  private List<Integer> xs(String curve) {
    TreeSet<Integer> xs = new TreeSet<>();
    for (ScaleRun.Step st : steps) {
      if (st.curve().equals(curve)) {
        xs.add(x(st));
      }
    }
    return new ArrayList<>(xs);
  }

  private List<String> backends(String curve) {
    LinkedHashSet<String> b = new LinkedHashSet<>();
    for (ScaleRun.Step st : steps) {
      if (st.curve().equals(curve)) {
        b.add(st.backend());
      }
    }
    return new ArrayList<>(b);
  }

  private List<String> workloads() {
    LinkedHashSet<String> w = new LinkedHashSet<>();
    for (ScaleRun.Step st : steps) {
      for (Result r : st.results()) {
        w.add(r.workload());
      }
    }
    return new ArrayList<>(w);
  }

  private int firstKeys(String curve) {
    for (ScaleRun.Step st : steps) {
      if (st.curve().equals(curve)) {
        return st.keys();
      }
    }
    return 0;
  }

  private List<ScaleRun.Step> recoverySteps() {
    List<ScaleRun.Step> out = new ArrayList<>();
    for (ScaleRun.Step st : steps) {
      if (st.restart() != null || st.catchUp() != null) {
        out.add(st);
      }
    }
    return out;
  }

  /** {@code 10k}, {@code 1M}, {@code 256 B}, {@code 64 KiB}. */
  static String label(String curve, int x) {
    if ("keys".equals(curve)) {
      if (x >= 1_000_000 && x % 1_000_000 == 0) {
        return x / 1_000_000 + "M";
      }
      if (x >= 1000 && x % 1000 == 0) {
        return x / 1000 + "k";
      }
      return Integer.toString(x);
    }
    if (x >= 1024 * 1024 && x % (1024 * 1024) == 0) {
      return x / (1024 * 1024) + " MiB";
    }
    if (x >= 1024 && x % 1024 == 0) {
      return x / 1024 + " KiB";
    }
    return x + " B";
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
    m.put("loadAveragesAtStart", loadAtStart);
    m.put("loadAveragesAtEnd", loadAtEnd);
    m.put("clients", clients);
    m.put("deployments", deployments);
    m.put("notes", notes);
    m.put("failures", failures);
    List<Object> ss = new ArrayList<>();
    for (ScaleRun.Step st : steps) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("backend", st.backend());
      x.put("curve", st.curve());
      x.put("keys", st.keys());
      x.put("addedKeys", st.addedKeys());
      x.put("valueSize", st.valueSize());
      x.put("load", Report.json(st.load()));
      x.put("results", st.results().stream().map(Report::json).toList());
      x.put("diskBytesBefore", st.before().diskBytes());
      x.put("diskBytesAfterLoad", st.afterLoad().diskBytes());
      x.put("diskBytesAddedPerKey", st.diskAddedPerKey());
      x.put("diskBytesTotalPerKey", st.diskTotalPerKey());
      x.put("rssBytesAfterLoad", st.afterLoad().rssBytes());
      x.put("rssFileBytesAfterLoad", st.afterLoad().rssFileBytes());
      x.put("heapBytesAfterLoad", st.afterLoad().heapBytes());
      x.put("memoryBytesBefore", st.before().memoryBytes());
      x.put("memoryBytesAfterLoad", st.afterLoad().memoryBytes());
      x.put("memoryBytesAddedPerKey", st.memoryAddedPerKey());
      x.put("memoryOf", st.afterLoad().where());
      if (st.restart() != null) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("member", st.restart().member());
        r.put("startedMs", st.restart().startMs());
        r.put("readyMs", st.restart().readyMs());
        x.put("restart", r);
      }
      if (st.catchUp() != null) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("member", st.catchUp().member());
        c.put("joinedMs", st.catchUp().joinMs());
        c.put("readyMs", st.catchUp().readyMs());
        c.put("logStartIndex", st.catchUp().logStartIndex());
        c.put("snapshotBytes", st.catchUp().snapshotBytes());
        c.put("method", st.catchUp().method());
        x.put("catchUp", c);
      }
      x.put("error", st.error());
      ss.add(x);
    }
    m.put("steps", ss);
    return m;
  }

  String markdown() {
    StringBuilder sb = new StringBuilder();
    sb.append("# libkv-java scale curves\n\n");
    sb.append("Generated by `libkv bench scale` on ").append(startedAt).append(". Command:\n\n");
    sb.append("```\n").append(command).append("\n```\n\n");
    sb.append("## Machine\n\n");
    for (Map.Entry<String, String> e : machine.entrySet()) {
      sb.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
    }
    sb.append("- load averages (1, 5, 15 min) at start: ")
        .append(loadAtStart)
        .append("; at end: ")
        .append(loadAtEnd)
        .append("\n\n");
    Report.appendSections(sb, deployments, notes, failures);
    List<String> ws = workloads();
    for (String curve : List.of("keys", "values")) {
      if (xs(curve).isEmpty()) {
        continue;
      }
      if ("keys".equals(curve)) {
        sb.append("## By data size\n\n");
      } else {
        sb.append("## By value size (")
            .append(firstKeys("values"))
            .append(" keys of each size)\n\n");
      }
      sb.append("| backend | keys | value | load keys/s |");
      for (String w : ws) {
        sb.append(' ').append(w).append(" ops/s | ").append(w).append(" p99 ms |");
      }
      sb.append(
          " disk B/key (added) | disk B/key (all) | memory MiB | memory B/key (added) | RSS MiB |"
              + " errors |\n");
      sb.append("|---|---:|---:|---:|");
      sb.append("---:|---:|".repeat(ws.size()));
      sb.append("---:|---:|---:|---:|---:|---:|\n");
      for (ScaleRun.Step st : steps) {
        if (!st.curve().equals(curve)) {
          continue;
        }
        long errors = st.load().errors();
        sb.append(
            String.format(
                Locale.ROOT,
                "| %s | %,d | %s | %,.0f |",
                st.backend(),
                st.keys(),
                label("values", st.valueSize()),
                st.load().opsPerSec()));
        for (String w : ws) {
          Result r = st.result(w);
          if (r == null) {
            sb.append(" - | - |");
          } else {
            errors += r.errors();
            sb.append(
                String.format(Locale.ROOT, " %,.0f | %s |", r.opsPerSec(), Report.ms(r.p99Us())));
          }
        }
        sb.append(
            String.format(
                Locale.ROOT,
                " %s | %s | %s | %s | %s | %d |\n",
                bytes(st.diskAddedPerKey()),
                bytes(st.diskTotalPerKey()),
                mib(st.afterLoad().memoryBytes()),
                bytes(st.memoryAddedPerKey()),
                mib(st.afterLoad().rssBytes()),
                errors));
      }
      sb.append('\n');
      for (ScaleRun.Step st : steps) {
        if (st.curve().equals(curve) && st.error() != null) {
          sb.append("- ")
              .append(st.backend())
              .append(" at ")
              .append(label(curve, x(st)))
              .append(": ")
              .append(st.error())
              .append('\n');
        }
      }
      for (String w : ws) {
        sb.append("![throughput](scale-")
            .append(curve)
            .append('-')
            .append(w)
            .append("-throughput.svg) ![p99](scale-")
            .append(curve)
            .append('-')
            .append(w)
            .append("-p99.svg)\n");
      }
      sb.append('\n');
    }
    List<ScaleRun.Step> rec = recoverySteps();
    if (!rec.isEmpty()) {
      sb.append("## Embedded: restart and catch-up by data size\n\n");
      sb.append(
          "A follower is stopped and started again on its data: *started* is when it is back in"
              + " touch with the leader, *ready* when a linearizable read through it has returned."
              + " Then a new, empty member is added: *joined* is when the membership change"
              + " including it committed, *caught up* when it has applied everything the leader"
              + " had applied when it joined and served a linearizable read; it is removed after.\n\n");
      sb.append(
          "| keys | restart: started ms | restart: ready ms | new member: joined ms |"
              + " new member: caught up ms | how it caught up | its snapshot MiB |\n");
      sb.append("|---:|---:|---:|---:|---:|---|---:|\n");
      for (ScaleRun.Step st : rec) {
        ClusterDeployment.Restart r = st.restart();
        ClusterDeployment.CatchUp c = st.catchUp();
        sb.append(
            String.format(
                Locale.ROOT,
                "| %,d | %s | %s | %s | %s | %s | %s |\n",
                st.keys(),
                r == null ? "-" : String.format(Locale.ROOT, "%.0f", r.startMs()),
                r == null ? "-" : String.format(Locale.ROOT, "%.0f", r.readyMs()),
                c == null ? "-" : String.format(Locale.ROOT, "%.0f", c.joinMs()),
                c == null ? "-" : String.format(Locale.ROOT, "%.0f", c.readyMs()),
                c == null ? "-" : c.method(),
                c == null || c.snapshotBytes() < 0
                    ? "-"
                    : String.format(Locale.ROOT, "%.1f", c.snapshotBytes() / 1048576.0)));
      }
      sb.append("\n![recovery](scale-embedded-recovery.svg)\n\n");
    }
    return sb.toString();
  }

  private static String mib(long v) {
    return v < 0 ? "?" : String.format(Locale.ROOT, "%,.0f", v / 1048576.0);
  }

  private static String bytes(double v) {
    return Double.isNaN(v) ? "?" : String.format(Locale.ROOT, "%,.0f", v);
  }
}
