package io.libkv.bench;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar on stderr: one line redrawn in place on a terminal; on a pipe or a log file, one
 * plain line every few seconds so that logs stay readable. Called from the driving thread only.
 */
final class Progress {
  private static final int WIDTH = 30;
  private static final long PLAIN_EVERY_NS = 5_000_000_000L;

  private final PrintStream out;
  private final boolean redraw;
  private final int totalPhases;
  private int phase;
  private long lastPlainNs;
  private int lastLength;

  Progress(PrintStream out, boolean redraw, int totalPhases) {
    this.out = out;
    this.redraw = redraw;
    this.totalPhases = Math.max(1, totalPhases);
  }

  static Progress toStderr(int totalPhases) {
    return new Progress(System.err, System.console() != null, totalPhases);
  }

  /** Starts the next phase. */
  void startPhase(String label) {
    phase++;
    lastPlainNs = System.nanoTime();
    if (!redraw) {
      out.printf(Locale.ROOT, "[%d/%d] %s ...%n", phase, totalPhases, label);
    }
  }

  /**
   * Shows the phase's progress.
   *
   * @param fraction 0 to 1
   */
  void update(String label, double fraction, long ops, double opsPerSec, double p99Ms) {
    double f = Math.max(0, Math.min(1, fraction));
    if (redraw) {
      int filled = (int) Math.round(f * WIDTH);
      String line =
          String.format(
              Locale.ROOT,
              "[%d/%d] [%s%s] %3.0f%% %s  %,d ops  %,.0f ops/s  p99 %.2f ms",
              phase,
              totalPhases,
              "#".repeat(filled),
              " ".repeat(WIDTH - filled),
              f * 100,
              label,
              ops,
              opsPerSec,
              p99Ms);
      int pad = Math.max(0, lastLength - line.length());
      out.print("\r" + line + " ".repeat(pad));
      lastLength = line.length();
      out.flush();
    } else if (System.nanoTime() - lastPlainNs >= PLAIN_EVERY_NS) {
      lastPlainNs = System.nanoTime();
      out.printf(
          Locale.ROOT,
          "    %3.0f%% %,d ops  %,.0f ops/s  p99 %.2f ms%n",
          f * 100,
          ops,
          opsPerSec,
          p99Ms);
    }
  }

  /** Ends the phase with its result. */
  void endPhase(Result r) {
    String line =
        String.format(
            Locale.ROOT,
            "[%d/%d] %-10s %-6s clients=%-4d %,12.0f ops/s  p50 %8s ms  p99 %8s ms  p99.9 %8s"
                + " ms%s",
            phase,
            totalPhases,
            r.target(),
            r.workload(),
            r.clients(),
            r.opsPerSec(),
            Report.ms(r.p50Us()),
            Report.ms(r.p99Us()),
            Report.ms(r.p999Us()),
            r.errors() > 0 ? "  errors " + r.errors() + " (" + r.firstError() + ")" : "");
    if (redraw) {
      int pad = Math.max(0, lastLength - line.length());
      out.print("\r" + line + " ".repeat(pad) + System.lineSeparator());
      lastLength = 0;
    } else {
      out.println(line);
    }
    out.flush();
  }

  /** Prints a message on its own line. */
  void message(String text) {
    if (redraw && lastLength > 0) {
      out.println();
      lastLength = 0;
    }
    out.println(text);
    out.flush();
  }
}
