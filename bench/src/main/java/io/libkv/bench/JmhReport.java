package io.libkv.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;

/** The JMH results as a Markdown table, plus the ratio of each store benchmark to its raw twin. */
final class JmhReport {
  private JmhReport() {}

  static String markdown(Collection<RunResult> results) {
    StringBuilder sb = new StringBuilder("# JMH microbenchmarks\n\n");
    sb.append("| benchmark | params | mode | score | error | unit |\n");
    sb.append("|---|---|---|---:|---:|---|\n");
    Map<String, Double> scores = new LinkedHashMap<>();
    for (RunResult rr : results) {
      BenchmarkParams p = rr.getParams();
      Result<?> r = rr.getPrimaryResult();
      String name =
          p.getBenchmark()
              .substring(
                  p.getBenchmark().lastIndexOf('.', p.getBenchmark().lastIndexOf('.') - 1) + 1);
      List<String> ps = new ArrayList<>();
      for (String k : p.getParamsKeys()) {
        ps.add(k + "=" + p.getParam(k));
      }
      String params = String.join(" ", ps);
      scores.put(name + "|" + params, r.getScore());
      sb.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %.3f | %.3f | %s |\n",
              name,
              params,
              p.getMode().shortLabel(),
              r.getScore(),
              r.getScoreError(),
              r.getScoreUnit()));
    }
    List<String> ratios = new ArrayList<>();
    for (Map.Entry<String, Double> e : scores.entrySet()) {
      String key = e.getKey();
      int bar = key.indexOf('|');
      String name = key.substring(0, bar);
      if (name.contains(".store")) {
        String raw = name.replace(".store", ".raw") + key.substring(bar);
        Double rawScore = scores.get(raw);
        if (rawScore != null && rawScore > 0) {
          ratios.add(
              String.format(
                  Locale.ROOT,
                  "| %s vs %s %s | %.2f |",
                  name,
                  name.replace(".store", ".raw"),
                  key.substring(bar + 1),
                  e.getValue() / rawScore));
        }
      }
    }
    if (!ratios.isEmpty()) {
      sb.append("\n## Store / raw lmdbjava (throughput ratio; 1.0 = no overhead)\n\n");
      sb.append("| pair | ratio |\n|---|---:|\n");
      for (String r : ratios) {
        sb.append(r).append('\n');
      }
    }
    return sb.toString();
  }
}
