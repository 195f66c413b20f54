package io.libkv.jepsen;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * {@code kill} (kill -9, restart later), {@code crash} (a simulated power loss: kill -9, then every
 * write the node had not fsynced is undone - see {@link CrashSim} - and it restarts later), {@code
 * pause} (SIGSTOP longer than the election timeout, then SIGCONT), {@code clock} (the node's store
 * clock jumps forward or runs 0.25x to 4x fast), {@code process-clock} (the node's whole process
 * clock, under libfaketime, jumps 2-22 s forward or runs 2x/4x fast in one-second steps: Ratis'
 * election and heartbeat timers see it too; it never goes back, so slow clocks are left to {@code
 * clock}), {@code member} (a membership change through Raft joint consensus: remove a member - the
 * leader or one by position - and, once the fault's time is up, stop it, wipe its data and add a
 * spare node as a new empty member; or add the spare first and remove a member after). Targets are
 * chosen among the current members, so faults compose with membership changes.
 *
 * <p>The first round (every kind once) always runs to its end, past the run's end time if need be,
 * so every kind is injected and healed at least once; {@link #healedKinds()} counts, per kind, the
 * faults healed within their slot.
 */
final class Nemesis {
  /** What the seed drew for one fault: which variant, which node, a fraction, and how long. */
  private record Draw(int variant, int pick, double r, long durMs) {}

  /** One kind of fault: injects it on a nemesis and returns what heals it. */
  @FunctionalInterface
  private interface Fault {
    Runnable inject(Nemesis on, Draw d);
  }

  private static final Map<String, Fault> FAULTS =
      Map.of(
          "partition", Nemesis::partition,
          "isolate", Nemesis::isolate,
          "kill", Nemesis::kill,
          "crash", Nemesis::crash,
          "pause", Nemesis::pause,
          "clock", Nemesis::clock,
          "process-clock", Nemesis::shiftProcessClock,
          "member", Nemesis::changeMembers);

  static final Set<String> KINDS = FAULTS.keySet();

  /** How long one membership change (with its retries) may take before it counts as unconfirmed. */
  private static final long MEMBER_CHANGE_MS = 60_000;

  private final Cluster cluster;
  private final Random random;
  private final List<String> kinds;
  private final PrintStream out;
  private final long startNs;
  private final List<String> faults = new ArrayList<>();
  private final List<String> unrecovered = new ArrayList<>();
  private final Map<String, Integer> injected = new java.util.TreeMap<>();
  private final Map<String, Integer> healed = new java.util.TreeMap<>();
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

  /**
   * How many faults of each kind were injected and then healed within their slot (a partition
   * healed, a killed or crashed node serving again, a paused node resumed, a clock set back, both
   * halves of a membership change confirmed). Kinds never healed are absent.
   */
  Map<String, Integer> healedKinds() {
    synchronized (faults) {
      return Map.copyOf(healed);
    }
  }

  /** How many faults of each kind were injected (whether or not they were healed in their slot). */
  Map<String, Integer> injectedKinds() {
    synchronized (faults) {
      return Map.copyOf(injected);
    }
  }

  private void injected(String kind) {
    synchronized (faults) {
      injected.merge(kind, 1, Integer::sum);
    }
  }

  private void healed(String kind) {
    synchronized (faults) {
      healed.merge(kind, 1, Integer::sum);
    }
  }

  /** Members that could not be restarted when everything was healed (each with the reason). */
  List<String> unrecovered() {
    synchronized (faults) {
      return List.copyOf(unrecovered);
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

  /**
   * Runs faults until {@code endNs}, then heals everything (restarts, resumes, reconnects). The
   * first round - every enabled kind once, in an order drawn from the seed - always runs to its
   * end, even past {@code endNs}: however slow the machine, a run injects and heals every kind it
   * was given. Further faults run only while they fit before {@code endNs}.
   */
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
        boolean firstRound = round < order.size();
        String kind = order.get(round++ % order.size());
        int variant = random.nextInt(3);
        int pick = random.nextInt(1000);
        double r = random.nextDouble();
        if (!firstRound && System.nanoTime() + (quiet + dur) * 1_000_000L > endNs) {
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
    List<Cluster.Node> nodes = cluster.members();
    if (variant == 0) {
      Cluster.Node leader = cluster.leader();
      if (leader != null) {
        return leader;
      }
    }
    return nodes.get(pick % nodes.size());
  }

  private Runnable inject(String kind, int variant, int pick, double r, long durMs) {
    Fault f = FAULTS.get(kind);
    if (f == null) {
      throw new IllegalArgumentException("unknown nemesis " + kind);
    }
    return f.inject(this, new Draw(variant, pick, r, durMs));
  }

  /**
   * Cuts the members in two: one node (the leader first) from the rest, a minority from a majority,
   * or two halves joined only through a bridge node.
   */
  private Runnable partition(Draw d) {
    List<Cluster.Node> nodes = cluster.members();
    if (nodes.size() < 2) {
      note("partition skipped: one node");
      return () -> {};
    }
    List<Cluster.Node> shuffled = new ArrayList<>(nodes);
    Collections.shuffle(shuffled, new Random(d.pick()));
    if (d.variant() == 0) {
      Cluster.Node t = target(0, d.pick());
      List<Cluster.Node> rest = new ArrayList<>(nodes);
      rest.remove(t);
      cluster.partition(List.of(List.of(t), rest));
      note(
          "partition isolate "
              + t
              + " (leader="
              + (t == cluster.leader())
              + ") for "
              + d.durMs()
              + "ms");
    } else if (d.variant() == 1 || nodes.size() < 3) {
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
              + d.durMs()
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
      note("partition bridge " + a + " <" + bridge + "> " + b + " for " + d.durMs() + "ms");
    }
    injected("partition");
    return () -> {
      cluster.healAll();
      note("heal partition");
      healed("partition");
    };
  }

  /** Cuts one node, by position, from all others. */
  private Runnable isolate(Draw d) {
    List<Cluster.Node> nodes = cluster.members();
    Cluster.Node t = nodes.get(d.pick() % nodes.size());
    List<Cluster.Node> rest = new ArrayList<>(nodes);
    rest.remove(t);
    cluster.partition(List.of(List.of(t), rest));
    note("isolate " + t + " for " + d.durMs() + "ms");
    injected("isolate");
    return () -> {
      cluster.healAll();
      note("heal isolate");
      healed("isolate");
    };
  }

  /** kill -9 of one node (the leader first); restarts it when healed. */
  private Runnable kill(Draw d) {
    Cluster.Node t = target(d.variant(), d.pick());
    cluster.kill(t);
    note("kill -9 " + t + " for " + d.durMs() + "ms");
    injected("kill");
    return () -> {
      try {
        cluster.restart(t, 120_000);
        note("restarted " + t + startTime(t));
        healed("kill");
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

  /**
   * A simulated power loss of one node, or of every member at once (variant 2); restarts them when
   * healed.
   */
  private Runnable crash(Draw d) {
    List<Cluster.Node> nodes = cluster.members();
    // Variant 2: the whole machine loses power (every member at once).
    List<Cluster.Node> victims = d.variant() == 2 ? nodes : List.of(target(d.variant(), d.pick()));
    for (Cluster.Node t : victims) {
      String undone = cluster.crash(t);
      note("crash (power loss) " + t + " for " + d.durMs() + "ms: " + undone);
    }
    injected("crash");
    return () -> {
      Map<Cluster.Node, RuntimeException> failed = cluster.restartAll(victims, 120_000);
      if (failed.isEmpty()) {
        healed("crash");
      }
      for (Cluster.Node t : victims) {
        RuntimeException e = failed.get(t);
        if (e == null) {
          note("restarted " + t + " after the crash" + startTime(t));
        } else {
          note(
              "restart of "
                  + t
                  + " after the crash failed, will retry at the end: "
                  + firstLine(e));
          cluster.kill(t);
        }
      }
    };
  }

  /** SIGSTOP of one node (the leader first); SIGCONT when healed. */
  private Runnable pause(Draw d) {
    Cluster.Node t = target(d.variant(), d.pick());
    cluster.pause(t);
    note("SIGSTOP " + t + " for " + d.durMs() + "ms");
    injected("pause");
    return () -> {
      cluster.resume(t);
      note("SIGCONT " + t);
      healed("pause");
    };
  }

  /** Makes one node's store clock jump forward or run 0.25x to 4x fast; back to 1x when healed. */
  private Runnable clock(Draw d) {
    Cluster.Node t = target(d.variant(), d.pick());
    boolean ok;
    if (d.r() < 0.5) {
      long jump = 2000 + (long) (d.r() * 20_000);
      ok = cluster.clock(t, jump, 1.0);
      note("clock " + t + " jumps +" + jump + "ms" + (ok ? "" : " (node unreachable)"));
    } else {
      double rate = new double[] {0.25, 0.5, 2.0, 4.0}[(int) (d.r() * 8) % 4];
      ok = cluster.clock(t, 0, rate);
      note(
          "clock "
              + t
              + " runs at "
              + rate
              + "x for "
              + d.durMs()
              + "ms"
              + (ok ? "" : " (node unreachable)"));
    }
    if (ok) {
      injected("clock");
    }
    return () -> {
      boolean back = cluster.clock(t, 0, 1.0);
      note("clock " + t + " back to 1.0x" + (back ? "" : " (node unreachable)"));
      if (ok && back) {
        healed("clock");
      }
    };
  }

  /**
   * Moves a node's whole process clock: a single forward jump, or a fast clock made of one forward
   * step a second (libfaketime reads its offset file once a second) for the fault's duration. The
   * leader is named before and after, so the log shows whether Ratis' timers reacted.
   */
  private Runnable shiftProcessClock(Draw d) {
    if (!cluster.hasProcessClock()) {
      throw new IllegalStateException("process-clock needs a cluster started with a process clock");
    }
    Cluster.Node t = target(d.variant(), d.pick());
    Cluster.Node leaderBefore = cluster.leader();
    if (d.r() < 0.5) {
      double jump = 2 + d.r() * 40;
      cluster.shiftProcessClock(t, jump);
      note(
          String.format(
              Locale.ROOT, "process clock %s jumps +%.1fs (leader %s)", t, jump, leaderBefore));
      injected("process-clock");
      return () -> {
        note(
            String.format(
                Locale.ROOT,
                "process clock %s now %.1fs ahead (leader %s)",
                t,
                t.processClockOffsetS,
                cluster.leader()));
        healed("process-clock");
      };
    }
    int rate = d.r() < 0.75 ? 2 : 4;
    Thread stepper =
        new Thread(
            () -> {
              try {
                while (true) {
                  Thread.sleep(1000);
                  cluster.shiftProcessClock(t, rate - 1);
                }
              } catch (InterruptedException e) {
                // Healed.
              }
            },
            "process-clock-" + t);
    stepper.setDaemon(true);
    stepper.start();
    note(
        String.format(
            Locale.ROOT,
            "process clock %s runs at %dx for %dms (leader %s)",
            t,
            rate,
            d.durMs(),
            leaderBefore));
    injected("process-clock");
    return () -> {
      stepper.interrupt();
      try {
        stepper.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      note(
          String.format(
              Locale.ROOT,
              "process clock %s back to 1x, %.1fs ahead (leader %s)",
              t,
              t.processClockOffsetS,
              cluster.leader()));
      healed("process-clock");
    };
  }

  /**
   * A membership change: variants 0 (the leader) and 1 (a member by position) remove a member now,
   * leave it running outside the configuration for the fault's duration (its clients keep calling
   * it), then stop it, wipe its data and add a spare; variant 2 adds a spare now and removes a
   * member (by {@code r}) at the end.
   */
  private Runnable changeMembers(Draw d) {
    List<Cluster.Node> spares = cluster.spares();
    if (spares.isEmpty() || cluster.members().size() < 2) {
      note("member change skipped: no spare node or too few members " + cluster.members());
      return () -> {};
    }
    Cluster.Node joiner = spares.get(d.pick() % spares.size());
    injected("member");
    if (d.variant() == 2) {
      boolean added = add(joiner);
      return () -> {
        List<Cluster.Node> old = new ArrayList<>(cluster.members());
        old.remove(joiner);
        if (!old.isEmpty() && cluster.members().size() > cluster.size()) {
          Cluster.Node victim = old.get((int) (d.r() * old.size()) % old.size());
          if (remove(victim, 0)) {
            retire(victim);
            if (added) {
              healed("member");
            }
          }
        }
      };
    }
    Cluster.Node victim = target(d.variant(), d.pick());
    boolean removed = remove(victim, d.durMs());
    return () -> {
      if (removed) {
        retire(victim);
      }
      if (add(joiner) && removed) {
        healed("member");
      }
    };
  }

  private boolean remove(Cluster.Node victim, long durMs) {
    List<Cluster.Node> rest = new ArrayList<>(cluster.members());
    boolean wasLeader = victim == cluster.leader();
    rest.remove(victim);
    long t0 = System.nanoTime();
    String failure = cluster.setMembers(rest, rest, MEMBER_CHANGE_MS);
    boolean ok = failure == null;
    if (ok) {
      victim.member = false;
      note(
          String.format(
              Locale.ROOT,
              "member remove %s (leader=%s) -> %s in %dms%s",
              victim,
              wasLeader,
              rest,
              (System.nanoTime() - t0) / 1_000_000,
              durMs > 0 ? ", left running outside the cluster for " + durMs + "ms" : ""));
    } else {
      // Unknown whether the change took effect: keep it a member with its data, which is safe
      // either way (a member cannot be wiped, a non-member's data is never needed).
      note(
          "member remove "
              + victim
              + " unconfirmed: still counted as a member (last answer: "
              + failure
              + ")");
    }
    return ok;
  }

  private void retire(Cluster.Node n) {
    cluster.retire(n);
    note("member " + n + " stopped and wiped");
  }

  /** Adds a spare as a new member; returns whether the cluster confirmed the change. */
  private boolean add(Cluster.Node joiner) {
    List<Cluster.Node> before = cluster.members();
    List<Cluster.Node> after = new ArrayList<>(before);
    after.add(joiner);
    long t0 = System.nanoTime();
    try {
      cluster.launchJoiner(joiner, 120_000);
    } catch (RuntimeException e) {
      cluster.kill(joiner);
      cluster.retire(joiner);
      note("member add " + joiner + " failed: it did not start: " + firstLine(e));
      return false;
    }
    long startedMs = (System.nanoTime() - t0) / 1_000_000;
    List<Cluster.Node> vias = new ArrayList<>(after);
    String failure = cluster.setMembers(vias, after, MEMBER_CHANGE_MS);
    if (failure == null) {
      joiner.member = true;
      joiner.joined = true;
      note(
          String.format(
              Locale.ROOT,
              "member add %s (new, empty) -> %s in %dms (process serving after %dms)",
              joiner,
              after,
              (System.nanoTime() - t0) / 1_000_000,
              startedMs));
      return true;
    }
    String back = cluster.setMembers(before, before, MEMBER_CHANGE_MS);
    if (back == null) {
      cluster.retire(joiner);
      note(
          "member add "
              + joiner
              + " not confirmed (last answer: "
              + failure
              + "); configuration set back to "
              + before);
    } else {
      // Neither confirmed: the joiner may be in the configuration, so it keeps its data.
      joiner.member = true;
      joiner.joined = true;
      note(
          "member add "
              + joiner
              + " unconfirmed: counted as a member, data kept (last answers: "
              + failure
              + "; "
              + back
              + ")");
    }
    return false;
  }

  private static String startTime(Cluster.Node n) {
    return String.format(
        Locale.ROOT,
        " (serving %.1fs after launch%s)",
        n.lastStartMs / 1000.0,
        n.lastStartShared ? ", class archive" : "");
  }

  /** The most telling line of a failed restart: the node's own exception if its log has one. */
  private static String cause(RuntimeException e) {
    String msg = String.valueOf(e.getMessage());
    return msg.lines()
        .filter(l -> l.startsWith("Caused by: io.libkv") || l.startsWith("Caused by: java"))
        .findFirst()
        .or(() -> msg.lines().findFirst())
        .orElse(msg);
  }

  private static String firstLine(RuntimeException e) {
    return String.valueOf(e.getMessage()).lines().findFirst().orElse("");
  }

  /**
   * Heals links, resumes paused nodes, restarts dead members, stops nodes removed from the
   * configuration, resets clock rates.
   */
  void healEverything() {
    cluster.healAll();
    for (Cluster.Node n : cluster.nodes()) {
      cluster.resume(n);
      if (!n.member) {
        if (n.running()) {
          retire(n);
        }
        continue;
      }
      if (!n.running()) {
        try {
          cluster.restart(n, 180_000);
        } catch (RuntimeException e) {
          // Reported, and the run fails: a member that cannot start again is a finding.
          String why = n + " does not start again: " + cause(e);
          synchronized (faults) {
            unrecovered.add(why);
          }
          note(why);
          cluster.kill(n);
          continue;
        }
      }
      cluster.clock(n, 0, 1.0);
    }
    note("healed everything, members " + cluster.members());
  }
}
