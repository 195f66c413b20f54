package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The checker against histories made by a sequential model: they must pass, the same with one
 * result corrupted must fail, and on small histories the checker must agree with a brute-force
 * search over every order. jqwik prints the seed of each run; {@code @Property(seed = "...")}
 * replays it, and every generated history derives from the printed {@code seed} parameter alone.
 * (jqwik ignores JUnit's {@code @Timeout}; the surefire fork timeout of this module bounds it.)
 */
class LinearizabilityCheckerPropertyTest {
  private final LinearizabilityChecker checker =
      new LinearizabilityChecker(Duration.ofSeconds(20), 2_000_000, Duration.ofSeconds(2));

  @Property(tries = 300)
  void modelHistoriesAreLinearizable(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 150) int n,
      @ForAll @IntRange(min = 0, max = 60) int window) {
    List<Op> ops = Histories.generate(seed, "k", n, window);
    assertEquals(Verdict.VALID, checker.check(ops).verdict(), () -> dump(seed, ops));
  }

  @Property(tries = 300)
  void corruptedModelHistoriesAreNot(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 150) int n,
      @ForAll @IntRange(min = 0, max = 60) int window) {
    List<Op> ops = Histories.corrupt(Histories.generate(seed, "k", n, window), seed);
    assertEquals(Verdict.INVALID, checker.check(ops).verdict(), () -> dump(seed, ops));
  }

  @Property(tries = 500)
  void agreesWithBruteForceOnSmallHistories(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 7) int n,
      @ForAll @IntRange(min = 0, max = 25) int window) {
    List<Op> ops = new ArrayList<>(Histories.generate(seed, "k", n, window));
    // Randomly change one result to another plausible value: sometimes still linearizable.
    Random r = new Random(seed * 31 + n);
    List<String> values = new ArrayList<>();
    values.add(null);
    ops.stream().filter(o -> o.kind() != Op.Kind.READ).forEach(o -> values.add(o.value()));
    if (r.nextBoolean() && !ops.isEmpty()) {
      int i = r.nextInt(ops.size());
      Op op = ops.get(i);
      String v = values.get(r.nextInt(values.size()));
      ops.set(
          i,
          op.kind() == Op.Kind.CAS
              ? new Op(
                  op.id(),
                  op.process(),
                  op.key(),
                  op.kind(),
                  op.value(),
                  v,
                  op.outcome(),
                  op.invokeNs(),
                  op.completeNs())
              : new Op(
                  op.id(),
                  op.process(),
                  op.key(),
                  op.kind(),
                  v,
                  op.expected(),
                  op.outcome(),
                  op.invokeNs(),
                  op.completeNs()));
    }
    // The oracle drops only what certainly did nothing, independently of the checker's pruning.
    List<Op> known =
        ops.stream()
            .filter(o -> o.outcome() != Op.Outcome.FAIL)
            .filter(o -> !(o.kind() == Op.Kind.READ && o.outcome() == Op.Outcome.INFO))
            .toList();
    Verdict expected = bruteForce(known) ? Verdict.VALID : Verdict.INVALID;
    assertEquals(expected, checker.check(ops).verdict(), () -> dump(seed, ops));
  }

  private static String dump(long seed, List<Op> ops) {
    StringBuilder sb = new StringBuilder("seed " + seed + ", history:\n");
    ops.forEach(o -> sb.append(o.toLine()).append('\n'));
    return sb.toString();
  }

  /**
   * Tries every order of every subset of the unknown operations plus all known ones, checking real
   * time (an op that returned before another was invoked comes first; touching is concurrent) and a
   * register written independently of the checker's model.
   */
  static boolean bruteForce(List<Op> ops) {
    return permute(ops, new ArrayList<>(), new boolean[ops.size()]);
  }

  private static boolean permute(List<Op> ops, List<Op> order, boolean[] used) {
    if (legal(order)
        && order.containsAll(ops.stream().filter(o -> o.outcome() == Op.Outcome.OK).toList())) {
      return true;
    }
    if (!legal(order)) {
      return false;
    }
    for (int i = 0; i < ops.size(); i++) {
      if (!used[i]) {
        used[i] = true;
        order.add(ops.get(i));
        boolean ok = permute(ops, order, used);
        order.remove(order.size() - 1);
        used[i] = false;
        if (ok) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean legal(List<Op> order) {
    for (int a = 0; a < order.size(); a++) {
      for (int b = a + 1; b < order.size(); b++) {
        if (order.get(b).outcome() == Op.Outcome.OK
            && order.get(b).completeNs() < order.get(a).invokeNs()) {
          return false;
        }
      }
    }
    String v = null;
    for (Op op : order) {
      switch (op.kind()) {
        case READ -> {
          if (!Objects.equals(v, op.value())) {
            return false;
          }
        }
        case WRITE -> v = op.value();
        case CAS -> {
          if (Objects.equals(v, op.expected())) {
            v = op.value();
          } else if (op.outcome() == Op.Outcome.OK) {
            return false;
          }
        }
      }
    }
    return true;
  }
}
