package io.libkv.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Draws the two result charts as standalone SVG, with no charting library: throughput by client
 * count (one line per target) and latency by client count (per target a bar from p50 to p99 and a
 * whisker to p99.9, on a log scale).
 */
final class SvgChart {
  private static final int W = 860;
  private static final int H = 460;
  private static final int LEFT = 90;
  private static final int RIGHT = 180;
  private static final int TOP = 50;
  private static final int BOTTOM = 60;
  private static final String[] COLORS = {
    "#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"
  };

  private SvgChart() {}

  /** One series: a target's values at each client count ({@code NaN} where not measured). */
  record Series(String name, double[] values) {}

  /** One latency series: per client count the p50, p99 and p99.9 in ms ({@code NaN} if none). */
  record LatencySeries(String name, double[] p50, double[] p99, double[] p999) {}

  static String throughput(String title, List<Integer> clients, List<Series> series) {
    return lines(
        title,
        clients.stream().map(String::valueOf).toList(),
        "client threads",
        "operations / s",
        series,
        SvgChart::formatCount,
        " ops/s");
  }

  /**
   * A line chart on a linear scale from 0: one line per series over the labelled x positions
   * ({@code NaN} values are left out).
   */
  static String lines(
      String title,
      List<String> xs,
      String xLabel,
      String yLabel,
      List<Series> series,
      java.util.function.DoubleFunction<String> format,
      String unit) {
    double max = 0;
    for (Series s : series) {
      for (double v : s.values()) {
        if (!Double.isNaN(v)) {
          max = Math.max(max, v);
        }
      }
    }
    double top = niceCeiling(max <= 0 ? 1 : max);
    StringBuilder sb = header(title);
    int plotW = W - LEFT - RIGHT;
    int plotH = H - TOP - BOTTOM;
    for (int i = 0; i <= 5; i++) {
      double v = top * i / 5;
      double y = TOP + plotH - plotH * (v / top);
      sb.append(
          String.format(
              Locale.ROOT,
              "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#ddd'/>"
                  + "<text x='%d' y='%.1f' text-anchor='end' class='tick'>%s</text>%n",
              LEFT,
              y,
              LEFT + plotW,
              y,
              LEFT - 8,
              y + 4,
              escape(format.apply(v))));
    }
    xAxis(sb, xs, plotW, plotH);
    axisLabels(sb, xLabel, yLabel, plotH);
    for (int si = 0; si < series.size(); si++) {
      Series s = series.get(si);
      String color = COLORS[si % COLORS.length];
      List<String> points = new ArrayList<>();
      for (int i = 0; i < xs.size(); i++) {
        double v = i < s.values().length ? s.values()[i] : Double.NaN;
        if (Double.isNaN(v)) {
          continue;
        }
        double x = xAt(i, xs.size(), plotW);
        double y = TOP + plotH - plotH * (v / top);
        points.add(String.format(Locale.ROOT, "%.1f,%.1f", x, y));
        sb.append(
            String.format(
                Locale.ROOT,
                "<circle cx='%.1f' cy='%.1f' r='4' fill='%s'><title>%s, %s: %s%s"
                    + "</title></circle>%n",
                x,
                y,
                color,
                escape(s.name()),
                escape(xs.get(i)),
                escape(format.apply(v)),
                escape(unit)));
      }
      if (points.size() > 1) {
        sb.append(
            String.format(
                Locale.ROOT,
                "<polyline fill='none' stroke='%s' stroke-width='2' points='%s'/>%n",
                color,
                String.join(" ", points)));
      }
      legend(sb, si, s.name(), color);
    }
    return sb.append("</svg>\n").toString();
  }

  static String latency(String title, List<Integer> clients, List<LatencySeries> series) {
    double min = Double.MAX_VALUE;
    double max = 0;
    for (LatencySeries s : series) {
      for (double[] arr : List.of(s.p50(), s.p99(), s.p999())) {
        for (double v : arr) {
          if (!Double.isNaN(v) && v > 0) {
            min = Math.min(min, v);
            max = Math.max(max, v);
          }
        }
      }
    }
    if (max <= 0) {
      min = 0.01;
      max = 1;
    }
    double lo = Math.pow(10, Math.floor(Math.log10(min)));
    double hi = Math.pow(10, Math.ceil(Math.log10(max)));
    if (hi <= lo) {
      hi = lo * 10;
    }
    StringBuilder sb = header(title);
    int plotW = W - LEFT - RIGHT;
    int plotH = H - TOP - BOTTOM;
    double logLo = Math.log10(lo);
    double logSpan = Math.log10(hi) - logLo;
    for (double v = lo; v <= hi * 1.0001; v *= 10) {
      double y = TOP + plotH - plotH * ((Math.log10(v) - logLo) / logSpan);
      sb.append(
          String.format(
              Locale.ROOT,
              "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#ddd'/>"
                  + "<text x='%d' y='%.1f' text-anchor='end' class='tick'>%s ms</text>%n",
              LEFT,
              y,
              LEFT + plotW,
              y,
              LEFT - 8,
              y + 4,
              formatMs(v)));
    }
    xAxis(sb, clients.stream().map(String::valueOf).toList(), plotW, plotH);
    axisLabels(sb, "client threads  (bar: p50 to p99, whisker: p99.9)", "latency (log)", plotH);
    double group = plotW / (double) Math.max(1, clients.size());
    double barW = Math.min(28, group * 0.8 / Math.max(1, series.size()));
    for (int si = 0; si < series.size(); si++) {
      LatencySeries s = series.get(si);
      String color = COLORS[si % COLORS.length];
      for (int i = 0; i < clients.size(); i++) {
        double p50 = at(s.p50(), i);
        double p99 = at(s.p99(), i);
        double p999 = at(s.p999(), i);
        if (Double.isNaN(p50) || p50 <= 0) {
          continue;
        }
        double cx = xAt(i, clients.size(), plotW) + (si - (series.size() - 1) / 2.0) * barW;
        double y50 = TOP + plotH - plotH * ((Math.log10(p50) - logLo) / logSpan);
        double y99 = TOP + plotH - plotH * ((Math.log10(Math.max(p99, p50)) - logLo) / logSpan);
        double y999 = TOP + plotH - plotH * ((Math.log10(Math.max(p999, p99)) - logLo) / logSpan);
        sb.append(
            String.format(
                Locale.ROOT,
                "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s'/>"
                    + "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'"
                    + " fill-opacity='0.8'><title>%s, %d clients: p50 %s ms, p99 %s ms,"
                    + " p99.9 %s ms</title></rect>%n",
                cx,
                y99,
                cx,
                y999,
                color,
                cx - barW * 0.4,
                y99,
                barW * 0.8,
                Math.max(1.5, y50 - y99),
                color,
                escape(s.name()),
                clients.get(i),
                formatMs(p50),
                formatMs(p99),
                formatMs(p999)));
      }
      legend(sb, si, s.name(), color);
    }
    return sb.append("</svg>\n").toString();
  }

  private static double at(double[] a, int i) {
    return i < a.length ? a[i] : Double.NaN;
  }

  private static StringBuilder header(String title) {
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d'"
                + " font-family='sans-serif' font-size='12'>%n"
                + "<style>.tick{fill:#444;font-size:11px}</style>%n"
                + "<rect width='100%%' height='100%%' fill='white'/>%n"
                + "<text x='%d' y='28' font-size='16' font-weight='bold'>%s</text>%n",
            W,
            H,
            W,
            H,
            LEFT,
            escape(title)));
    return sb;
  }

  private static void xAxis(StringBuilder sb, List<String> xs, int plotW, int plotH) {
    sb.append(
        String.format(
            Locale.ROOT,
            "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#333'/>"
                + "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#333'/>%n",
            LEFT,
            TOP + plotH,
            LEFT + plotW,
            TOP + plotH,
            LEFT,
            TOP,
            LEFT,
            TOP + plotH));
    for (int i = 0; i < xs.size(); i++) {
      sb.append(
          String.format(
              Locale.ROOT,
              "<text x='%.1f' y='%d' text-anchor='middle' class='tick'>%s</text>%n",
              xAt(i, xs.size(), plotW),
              TOP + plotH + 18,
              escape(xs.get(i))));
    }
  }

  private static void axisLabels(StringBuilder sb, String x, String y, int plotH) {
    sb.append(
        String.format(
            Locale.ROOT,
            "<text x='%d' y='%d' text-anchor='middle'>%s</text>%n"
                + "<text transform='translate(18,%d) rotate(-90)' text-anchor='middle'>%s</text>%n",
            LEFT + (W - LEFT - RIGHT) / 2,
            H - 18,
            escape(x),
            TOP + plotH / 2,
            escape(y)));
  }

  private static void legend(StringBuilder sb, int index, String name, String color) {
    int x = W - RIGHT + 20;
    int y = TOP + 10 + index * 22;
    sb.append(
        String.format(
            Locale.ROOT,
            "<rect x='%d' y='%d' width='14' height='14' fill='%s'/>"
                + "<text x='%d' y='%d'>%s</text>%n",
            x,
            y,
            color,
            x + 20,
            y + 12,
            escape(name)));
  }

  private static double xAt(int i, int n, int plotW) {
    return LEFT + plotW * (i + 0.5) / Math.max(1, n);
  }

  static double niceCeiling(double v) {
    double exp = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
      if (m * exp >= v) {
        return m * exp;
      }
    }
    return 10 * exp;
  }

  static String formatCount(double v) {
    if (v >= 1e6) {
      return String.format(Locale.ROOT, "%.1fM", v / 1e6);
    }
    if (v >= 1e4) {
      return String.format(Locale.ROOT, "%.0fk", v / 1e3);
    }
    if (v >= 1e3) {
      return String.format(Locale.ROOT, "%.1fk", v / 1e3);
    }
    return String.format(Locale.ROOT, "%.0f", v);
  }

  static String formatMs(double ms) {
    if (ms >= 100) {
      return String.format(Locale.ROOT, "%.0f", ms);
    }
    if (ms >= 1) {
      return String.format(Locale.ROOT, "%.1f", ms);
    }
    if (ms >= 0.01) {
      return String.format(Locale.ROOT, "%.2f", ms);
    }
    return String.format(Locale.ROOT, "%.3f", ms);
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;");
  }
}
