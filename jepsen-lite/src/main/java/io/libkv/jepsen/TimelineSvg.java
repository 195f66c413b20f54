package io.libkv.jepsen;

import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * Draws a history as an SVG timeline: one row per client process, one bar per operation from its
 * invocation to its completion (an unknown outcome runs dashed to the right edge), labelled with
 * what it did. Times are shown relative to the first invocation, in milliseconds.
 */
final class TimelineSvg {
  private static final int LEFT = 70;
  private static final int WIDTH = 1000;
  private static final int ROW = 34;
  private static final int TOP = 40;

  private TimelineSvg() {}

  static String render(String title, List<Op> ops) {
    TreeMap<Integer, Integer> rows = new TreeMap<>();
    long min = Long.MAX_VALUE;
    long max = Long.MIN_VALUE;
    for (Op op : ops) {
      rows.putIfAbsent(op.process(), 0);
      min = Math.min(min, op.invokeNs());
      max = Math.max(max, op.invokeNs());
      if (op.outcome() != Op.Outcome.INFO) {
        max = Math.max(max, op.completeNs());
      }
    }
    int r = 0;
    for (Integer p : rows.keySet()) {
      rows.put(p, r++);
    }
    if (ops.isEmpty()) {
      min = 0;
      max = 1;
    }
    double span = Math.max(1, max - min) * 1.1;
    int height = TOP + Math.max(1, rows.size()) * ROW + 30;
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " font-family=\"monospace\" font-size=\"11\">%n",
            LEFT + WIDTH + 20,
            height));
    sb.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    sb.append(
        String.format(
            Locale.ROOT, "<text x=\"10\" y=\"20\" font-size=\"14\">%s</text>%n", escape(title)));
    for (var e : rows.entrySet()) {
      int y = TOP + e.getValue() * ROW;
      sb.append(
          String.format(
              Locale.ROOT,
              "<text x=\"5\" y=\"%d\">p%d</text><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\""
                  + " stroke=\"#ddd\"/>%n",
              y + 16,
              e.getKey(),
              LEFT,
              y + ROW - 2,
              LEFT + WIDTH,
              y + ROW - 2));
    }
    for (Op op : ops) {
      int y = TOP + rows.get(op.process()) * ROW + 4;
      double x1 = LEFT + (op.invokeNs() - min) / span * WIDTH;
      boolean open = op.outcome() == Op.Outcome.INFO;
      double x2 = open ? LEFT + WIDTH : LEFT + (op.completeNs() - min) / span * WIDTH;
      x2 = Math.max(x2, x1 + 2);
      String fill =
          switch (op.kind()) {
            case READ -> "#cfe3ff";
            case WRITE -> "#ffe0b3";
            case CAS -> "#d8f5d0";
          };
      sb.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"22\" fill=\"%s\" stroke=\"#444\"%s>"
                  + "<title>%s</title></rect>%n",
              x1,
              y,
              x2 - x1,
              fill,
              open ? " stroke-dasharray=\"4,3\"" : "",
              escape(op.toLine())));
      sb.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%d\">%s</text>%n",
              x1 + 3,
              y + 15,
              escape("#" + op.id() + " " + op.label())));
    }
    sb.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%d\" y=\"%d\">0 ms</text><text x=\"%d\" y=\"%d\">%.1f ms</text>%n",
            LEFT,
            height - 8,
            LEFT + WIDTH - 60,
            height - 8,
            span / 1e6));
    sb.append("</svg>\n");
    return sb.toString();
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
