package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LinearizabilityCheckerTest {
  private final LinearizabilityChecker checker = LinearizabilityChecker.defaults();

  private Verdict verdict(Histories h) {
    return checker.check(h.ops()).verdict();
  }

  @Test
  void emptyHistoryIsValid() {
    assertEquals(Verdict.VALID, checker.check(List.of()).verdict());
  }

  @Test
  void readOfAbsentKeyBeforeAnyWriteIsValid() {
    assertEquals(Verdict.VALID, verdict(Histories.on("k").read(0, null, 0, 10)));
  }

  @Test
  void readOfAbsentKeyAfterCompletedWriteIsInvalid() {
    assertEquals(
        Verdict.INVALID, verdict(Histories.on("k").write(0, "1", 0, 10).read(1, null, 20, 30)));
  }

  @Test
  void sequentialWriteThenReadIsValid() {
    assertEquals(
        Verdict.VALID, verdict(Histories.on("k").write(0, "1", 0, 10).read(1, "1", 20, 30)));
  }

  @Test
  void staleReadAfterCompletedWriteIsInvalid() {
    Histories h = Histories.on("k").write(0, "1", 0, 10).write(0, "2", 20, 30).read(1, "1", 40, 50);
    assertEquals(Verdict.INVALID, verdict(h));
  }

  /**
   * The shape of the INVALID key an etcd reference run produced: a client library that retries a
   * put after a lost reply (jetcd's withAutoRetry, then used by the etcd adapter) applies it twice,
   * around another client's write. One slow write cannot be seen before and after {@code 2},
   * whether its outcome is known or not.
   */
  @Test
  void writeAppliedTwiceByARetryingClientIsInvalid() {
    Histories known =
        Histories.on("k")
            .write(0, "1", 0, 100)
            .read(1, "1", 5, 6)
            .write(2, "2", 10, 20)
            .read(1, "2", 25, 26)
            .read(1, "1", 30, 31);
    assertEquals(Verdict.INVALID, verdict(known));
    Histories unknown =
        Histories.on("k")
            .writeUnknown(0, "1", 0)
            .read(1, "1", 5, 6)
            .write(2, "2", 10, 20)
            .read(1, "2", 25, 26)
            .read(1, "1", 30, 31);
    assertEquals(Verdict.INVALID, verdict(unknown));
  }

  @Test
  void readConcurrentWithWriteMaySeeEitherValue() {
    assertEquals(
        Verdict.VALID,
        verdict(Histories.on("k").write(0, "1", 0, 10).write(0, "2", 20, 60).read(1, "1", 30, 40)));
    assertEquals(
        Verdict.VALID,
        verdict(Histories.on("k").write(0, "1", 0, 10).write(0, "2", 20, 60).read(1, "2", 30, 40)));
  }

  @Test
  void touchingIntervalsCountAsConcurrent() {
    // The read is invoked at the instant the write returns: either order is allowed.
    assertEquals(
        Verdict.VALID,
        verdict(Histories.on("k").write(0, "1", 0, 10).write(0, "2", 10, 20).read(1, "1", 20, 30)));
  }

  @Test
  void concurrentWritesSeenInEitherOrderAreValid() {
    assertEquals(
        Verdict.VALID,
        verdict(
            Histories.on("k")
                .write(0, "1", 0, 100)
                .write(1, "2", 0, 100)
                .read(2, "1", 10, 20)
                .read(2, "2", 30, 40)));
    assertEquals(
        Verdict.VALID,
        verdict(
            Histories.on("k")
                .write(0, "1", 0, 100)
                .write(1, "2", 0, 100)
                .read(2, "2", 10, 20)
                .read(2, "1", 30, 40)));
  }

  @Test
  void twoReadersSeeingConcurrentWritesInOppositeOrdersAreInvalid() {
    Histories h =
        Histories.on("k")
            .write(0, "1", 0, 100)
            .write(1, "2", 0, 100)
            .read(2, "1", 10, 20)
            .read(2, "2", 30, 40)
            .read(3, "2", 10, 20)
            .read(3, "1", 30, 40);
    assertEquals(Verdict.INVALID, verdict(h));
  }

  @Test
  void readOfValueNeverWrittenIsInvalid() {
    assertEquals(
        Verdict.INVALID, verdict(Histories.on("k").write(0, "1", 0, 10).read(1, "7", 0, 30)));
  }

  @Test
  void twoSuccessfulCasFromTheSameValueAreInvalid() {
    Histories h =
        Histories.on("k").write(0, "0", 0, 10).cas(1, "0", "1", 20, 30).cas(2, "0", "2", 20, 30);
    assertEquals(Verdict.INVALID, verdict(h));
  }

  @Test
  void casChainIsValidAndCasOnWrongValueIsInvalid() {
    assertEquals(
        Verdict.VALID,
        verdict(
            Histories.on("k")
                .write(0, "0", 0, 10)
                .cas(1, "0", "1", 20, 30)
                .cas(2, "1", "2", 25, 40)
                .read(0, "2", 50, 60)));
    assertEquals(
        Verdict.INVALID, verdict(Histories.on("k").write(0, "1", 0, 10).cas(1, "5", "6", 20, 30)));
  }

  @Test
  void successfulCasInvisibleToLaterReadIsInvalid() {
    Histories h =
        Histories.on("k").write(0, "0", 0, 10).cas(1, "0", "1", 20, 30).read(2, "0", 40, 50);
    assertEquals(Verdict.INVALID, verdict(h));
  }

  @Test
  void unknownWriteMayTakeEffectLater() {
    Histories h =
        Histories.on("k")
            .write(0, "1", 0, 10)
            .writeUnknown(1, "2", 20)
            .read(2, "1", 100, 110)
            .read(2, "2", 200, 210);
    assertEquals(Verdict.VALID, verdict(h));
  }

  @Test
  void unknownWriteMayNeverTakeEffect() {
    assertEquals(
        Verdict.VALID,
        verdict(
            Histories.on("k")
                .write(0, "1", 0, 10)
                .writeUnknown(1, "2", 20)
                .read(2, "1", 1000, 1010)));
  }

  @Test
  void unknownWriteCannotBeUndone() {
    Histories h =
        Histories.on("k")
            .write(0, "1", 0, 10)
            .writeUnknown(1, "2", 20)
            .read(2, "2", 100, 110)
            .read(2, "1", 200, 210);
    assertEquals(Verdict.INVALID, verdict(h));
  }

  @Test
  void unknownWriteCannotTakeEffectBeforeItsInvocation() {
    Histories h =
        Histories.on("k").write(0, "1", 0, 10).read(2, "2", 20, 30).writeUnknown(1, "2", 40);
    assertEquals(Verdict.INVALID, verdict(h));
  }

  @Test
  void unknownCasEnablesLaterCas() {
    Histories h =
        Histories.on("k")
            .write(0, "1", 0, 10)
            .casUnknown(1, "1", "2", 20)
            .cas(2, "2", "3", 100, 110)
            .read(2, "3", 120, 130);
    assertEquals(Verdict.VALID, verdict(h));
  }

  @Test
  void manyUnobservedUnknownWritesStayCheap() {
    // After faults a key collects writes in doubt; those nobody read must not blow up the search.
    Histories h = Histories.on("k").write(0, "0", 0, 10);
    for (int i = 0; i < 200; i++) {
      h.writeUnknown(1000 + i, "lost" + i, 20 + i);
    }
    for (int i = 0; i < 50; i++) {
      h.read(1, "0", 300 + 10 * i, 305 + 10 * i);
    }
    h.writeUnknown(5000, "seen", 800).read(2, "seen", 900, 910);
    LinearizabilityChecker small =
        new LinearizabilityChecker(Duration.ofSeconds(5), 10_000, Duration.ofSeconds(1));
    assertEquals(Verdict.VALID, small.check(h.ops()).verdict());
  }

  @Test
  void failedWriteNeverTakesEffect() {
    Histories h =
        Histories.on("k").write(0, "1", 0, 10).writeFailed(1, "2", 20, 30).read(2, "2", 40, 50);
    assertEquals(Verdict.INVALID, verdict(h));
  }

  @Test
  void keysAreCheckedIndependently() {
    List<Op> ops =
        new ArrayList<>(Histories.on("a").write(0, "1", 0, 10).read(1, "1", 20, 30).ops());
    for (Op op :
        Histories.on("b").write(0, "1", 0, 10).write(0, "2", 20, 30).read(1, "1", 40, 50).ops()) {
      ops.add(
          new Op(
              100 + op.id(),
              op.process(),
              op.key(),
              op.kind(),
              op.value(),
              op.expected(),
              op.outcome(),
              op.invokeNs(),
              op.completeNs()));
    }
    LinearizabilityChecker.Result r = checker.check(ops);
    assertEquals(Verdict.INVALID, r.verdict());
    assertEquals(1, r.problems().size());
    assertEquals("b", r.problems().get(0).key());
  }

  @Test
  void exhaustedStateBudgetIsUnknownNotValid() {
    // Many concurrent writes and reads of values that cannot all be ordered: the search needs
    // more than 50 states, so with that budget the answer must be UNKNOWN.
    Histories h = Histories.on("k");
    for (int i = 0; i < 12; i++) {
      h.write(i, "w" + i, 0, 1000);
    }
    for (int i = 0; i < 12; i++) {
      h.read(100 + i, "w" + (11 - i), 10 + 2 * i, 11 + 2 * i);
    }
    h.read(200, "w0", 2000, 2010);
    LinearizabilityChecker tiny =
        new LinearizabilityChecker(Duration.ofSeconds(10), 50, Duration.ofSeconds(1));
    LinearizabilityChecker.Result r = tiny.check(h.ops());
    assertEquals(Verdict.UNKNOWN, r.verdict(), r.toString());
    assertTrue(r.problems().get(0).why().contains("states"), r.toString());
  }

  @Test
  void exhaustedTimeBudgetIsUnknownNotValid() {
    Histories h = Histories.on("k");
    for (int i = 0; i < 40; i++) {
      h.write(i, "w" + i, 0, 1000);
    }
    for (int i = 0; i < 40; i++) {
      h.read(100 + i, "w" + (i * 7 % 40), 10 + 2 * i, 11 + 2 * i);
    }
    h.read(300, "none", 2000, 2010);
    LinearizabilityChecker quick =
        new LinearizabilityChecker(Duration.ofMillis(1), Long.MAX_VALUE, Duration.ofMillis(1));
    assertEquals(Verdict.UNKNOWN, quick.check(h.ops()).verdict());
  }

  @Test
  void failureIsShrunkAndReportedWithTimeline(@TempDir Path dir) throws Exception {
    List<Op> ops = new ArrayList<>(Histories.generate(42, "reg/1", 200, 20));
    // A stale read at the very end: sees the first value written, long after later writes.
    String first =
        ops.stream()
            .filter(o -> o.kind() == Op.Kind.WRITE && o.outcome() == Op.Outcome.OK)
            .findFirst()
            .orElseThrow()
            .value();
    long end = ops.stream().mapToLong(Op::invokeNs).max().orElseThrow() + 1000;
    ops.add(new Op(9999, 77, "reg/1", Op.Kind.READ, first, null, Op.Outcome.OK, end, end + 5));
    assertEquals(Verdict.VALID, checker.check(ops.subList(0, ops.size() - 1)).verdict());
    LinearizabilityChecker.Result r = checker.check(ops);
    assertEquals(Verdict.INVALID, r.verdict());
    List<Op> small = r.problems().get(0).failing();
    assertTrue(small.size() < 10, "shrunk to " + small.size() + " ops: " + small);
    assertTrue(small.stream().anyMatch(o -> o.id() == 9999), small.toString());
    assertEquals(Verdict.INVALID, checker.check(small).verdict());
    r.writeReport(dir);
    String svg = Files.readString(dir.resolve("reg_1.svg"));
    assertTrue(svg.startsWith("<svg") && svg.contains("#9999 r " + first), svg);
    List<Op> reread =
        Files.readAllLines(dir.resolve("reg_1.history.txt")).stream().map(Op::parse).toList();
    assertEquals(small, reread);
    assertTrue(Files.readString(dir.resolve("summary.txt")).startsWith("verdict INVALID"));
  }

  @Test
  void textFormRoundTrips() {
    for (Op op : Histories.generate(7, "x", 100, 30)) {
      assertEquals(op, Op.parse(op.toLine()));
    }
  }

  @Test
  void largeGeneratedHistoryChecksQuickly() {
    List<Op> ops = new ArrayList<>();
    for (int k = 0; k < 20; k++) {
      ops.addAll(Histories.generate(1000 + k, "k" + k, 500, 40));
    }
    long t0 = System.nanoTime();
    LinearizabilityChecker.Result r = checker.check(ops);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(Verdict.VALID, r.verdict(), r.problems().toString());
    assertTrue(ms < 20_000, "took " + ms + " ms");
  }
}
