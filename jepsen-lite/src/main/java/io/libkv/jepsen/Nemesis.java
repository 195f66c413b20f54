package io.libkv.jepsen;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * Injects faults into a {@link Cluster} on a schedule drawn from a seed: quiet, fault, heal,
 * repeated, taking the enabled kinds in turn (in an order drawn from the seed). The seed fixes the
 * sequence of fault kinds, their targets (by position, or "the leader at that moment"), their
 * durations and the quiet gaps; which node leads at a given moment depends on timing, so a replay
 * repeats the schedule, not every message.
 *
 * <p>Kinds: {@code partition} (isolate the leader, a random majority/minority split, or a bridge
 * where one node sees both sides), {@code isolate} (cut one node, by position, from all others),
 * {@code kill} (kill -9, restart later), {@code pause} (SIGSTOP longer than the election timeout,
 * then SIGCONT), {@code clock} (the node's store clock jumps forward or runs 0.25x to 4x fast).
 */
final class Nemesis {
  static final Set<String> KINDS = Set.of("partition", "isolate", "kill", "pause", "clock");

  private final Cluster cluster;
  private final Random random;
  private final List<String> kinds;
  private final PrintStream out;
  private final long startNs;
  private final List<String> faults = new ArrayList<>();
  private final long minFaultMs;
  private final long maxFaultMs;

  Nemesis(
      Cluster cluster,
      long seed,
      List<String> kinds,
      long minFaultMs,
      long maxFaultMs,
      PrintStream out,
      long startNs) {
    for (String k : kinds) {
      if (!KINDS.contains(k)) {
        throw new IllegalArgumentException("unknown nemesis '" + k + "'; known: " + KINDS);
      }
    }
    this.cluster = cluster;
    this.random = new Random(seed);
    this.kinds = List.copyOf(kinds);
    this.out = out;
    this.startNs = startNs;
    this.minFaultMs = minFaultMs;
    this.maxFaultMs = maxFaultMs;
  }

  List<String> faults() {
    synchronized (faults) {
      return List.copyOf(faults);
    }
  }

  private void note(String what) {
    String line =
        String.format(Locale.ROOT, "%7.2fs nemesis %s", (System.nanoTime() - startNs) / 1e9, what);
    synchronized (faults) {
      faults.add(line);
    }
    out.println(line);
  }

  /** Runs faults until {@code endNs}, then heals everything (restarts, resumes, reconnects). */
  void run(long endNs) throws InterruptedException {
    if (kinds.isEmpty()) {
      sleepUntil(endNs);
      return;
    }
    // Every kind in turn, in an order drawn from the seed, so a short run still sees each one.
    List<String> order = new ArrayList<>(kinds);
    Collections.shuffle(order, random);
    int round = 0;
    try {
      while (true) {
        long quiet = 1000 + random.nextInt(1500);
        long dur = minFaultMs + (long) (random.nextDouble() * (maxFaultMs - minFaultMs));
        String kind = order.get(round++ % order.size());
        int variant = random.nextInt(3);
        int pick = random.nextInt(1000);
        double r = random.nextDouble();
        if (System.nanoTime() + (quiet + dur) * 1_000_000L > endNs) {
          break;
        }
        Thread.sleep(quiet);
        Runnable heal = inject(kind, variant, pick, r, dur);
        Thread.sleep(dur);
        heal.run();
      }
    } finally {
      healEverything();
    }
    sleepUntil(endNs);
  }

  private static void sleepUntil(long endNs) throws InterruptedException {
    long ms = (endNs - System.nanoTime()) / 1_000_000;
    if (ms > 0) {
      Thread.sleep(ms);
    }
  }

  private Cluster.Node target(int variant, int pick) {
    List<Cluster.Node> nodes = cluster.nodes();
    if (variant == 0) {
      Cluster.Node leader = cluster.leader();
      if (leader != null) {
        return leader;
      }
    }
    return nodes.get(pick % nodes.size());
  }

  private Runnable inject(String kind, int variant, int pick, double r, long durMs) {
    List<Cluster.Node> nodes = cluster.nodes();
    switch (kind) {
      case "partition":
        {
          if (nodes.size() < 2) {
            note("partition skipped: one node");
            return () -> {};
          }
          List<Cluster.Node> shuffled = new ArrayList<>(nodes);
          Collections.shuffle(shuffled, new Random(pick));
          if (variant == 0) {
            Cluster.Node t = target(0, pick);
            List<Cluster.Node> rest = new ArrayList<>(nodes);
            rest.remove(t);
            cluster.partition(List.of(List.of(t), rest));
            note(
                "partition isolate "
                    + t
                    + " (leader="
                    + (t == cluster.leader())
                    + ") for "
                    + durMs
                    + "ms");
          } else if (variant == 1 || nodes.size() < 3) {
            int cut = nodes.size() / 2;
            List<Cluster.Node> minority = shuffled.subList(0, cut);
            List<Cluster.Node> majority = shuffled.subList(cut, shuffled.size());
            cluster.partition(List.of(List.copyOf(minority), List.copyOf(majority)));
            note(
                "partition minority "
                    + minority
                    + " | majority "
                    + majority
                    + " for "
                    + durMs
                    + "ms");
          } else {
            Cluster.Node bridge = shuffled.get(0);
            List<Cluster.Node> rest = shuffled.subList(1, shuffled.size());
            int half = rest.size() / 2;
            List<Cluster.Node> a = rest.subList(0, half);
            List<Cluster.Node> b = rest.subList(half, rest.size());
            for (Cluster.Node x : a) {
              for (Cluster.Node y : b) {
                cluster.cut(x, y);
                cluster.cut(y, x);
              }
            }
            note("partition bridge " + a + " <" + bridge + "> " + b + " for " + durMs + "ms");
          }
          return () -> {
            cluster.healAll();
            note("heal partition");
          };
        }
      case "isolate":
        {
          Cluster.Node t = nodes.get(pick % nodes.size());
          List<Cluster.Node> rest = new ArrayList<>(nodes);
          rest.remove(t);
          cluster.partition(List.of(List.of(t), rest));
          note("isolate " + t + " for " + durMs + "ms");
          return () -> {
            cluster.healAll();
            note("heal isolate");
          };
        }
      case "kill":
        {
          Cluster.Node t = target(variant, pick);
          cluster.kill(t);
          note("kill -9 " + t + " for " + durMs + "ms");
          return () -> {
            try {
              cluster.restart(t, 120_000);
              note("restarted " + t);
            } catch (RuntimeException e) {
              note(
                  "restart of "
                      + t
                      + " failed, will retry at the end: "
                      + e.getMessage().lines().findFirst().orElse(""));
              cluster.kill(t);
            }
          };
        }
      case "pause":
        {
          Cluster.Node t = target(variant, pick);
          cluster.pause(t);
          note("SIGSTOP " + t + " for " + durMs + "ms");
          return () -> {
            cluster.resume(t);
            note("SIGCONT " + t);
          };
        }
      case "clock":
        {
          Cluster.Node t = target(variant, pick);
          if (r < 0.5) {
            long jump = 2000 + (long) (r * 20_000);
            boolean ok = cluster.clock(t, jump, 1.0);
            note("clock " + t + " jumps +" + jump + "ms" + (ok ? "" : " (node unreachable)"));
          } else {
            double rate = new double[] {0.25, 0.5, 2.0, 4.0}[(int) (r * 8) % 4];
            boolean ok = cluster.clock(t, 0, rate);
            note(
                "clock "
                    + t
                    + " runs at "
                    + rate
                    + "x for "
                    + durMs
                    + "ms"
                    + (ok ? "" : " (node unreachable)"));
          }
          return () -> {
            cluster.clock(t, 0, 1.0);
            note("clock " + t + " back to 1.0x");
          };
        }
      default:
        throw new IllegalArgumentException("unknown nemesis " + kind);
    }
  }

  /** Heals links, resumes paused nodes, restarts dead ones, resets clock rates. */
  void healEverything() {
    cluster.healAll();
    for (Cluster.Node n : cluster.nodes()) {
      cluster.resume(n);
      if (!n.running()) {
        cluster.restart(n, 180_000);
      }
      cluster.clock(n, 0, 1.0);
    }
    note("healed everything");
  }
}
