package io.libkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WorkloadRunnerTest {
  private final ByteArrayOutputStream progressOut = new ByteArrayOutputStream();
  private final WorkloadRunner runner =
      new WorkloadRunner(
          new Progress(new PrintStream(progressOut, true, StandardCharsets.UTF_8), false, 10));

  private static WorkloadRunner.Phase phase(Workload w, int clients, long ops, KeySpace keys) {
    return new WorkloadRunner.Phase(
        w, clients, Duration.ofSeconds(30), ops, Duration.ZERO, keys, 64, 2000);
  }

  @Test
  void loadWritesEveryKeyOnce() {
    MapTarget t = new MapTarget();
    KeySpace keys = new KeySpace("t", 1000);
    Result r = runner.load(t, keys, 32, 8);
    assertEquals(1000, t.map.size());
    assertEquals(1000, t.puts.get());
    assertEquals(1000, r.ops());
    assertEquals("load", r.workload());
    assertEquals(0, r.errors());
    assertEquals(32, t.map.get(keys.key(999)).value().length);
  }

  @Test
  void opLimitPhaseRecordsExactlyTheOpsItCounts() {
    MapTarget t = new MapTarget();
    KeySpace keys = new KeySpace("t", 100);
    runner.load(t, keys, 16, 4);
    long before = t.gets.get();
    Result r = runner.run(t, phase(Workload.GET, 4, 5000, keys));
    // Every recorded op is a real call; threads may finish a few in-flight calls after the limit.
    assertTrue(r.ops() >= 5000, "ops " + r.ops());
    assertTrue(t.gets.get() - before >= r.ops());
    assertTrue(t.gets.get() - before <= r.ops() + 4, "at most one extra call per client");
    assertSaneLatencies(r);
    assertEquals(4, r.clients());
  }

  @Test
  void durationPhaseStopsAndMeasuresOnlyTheWindow() {
    MapTarget t = new MapTarget();
    KeySpace keys = new KeySpace("t", 100);
    runner.load(t, keys, 16, 4);
    long before = t.puts.get();
    Result r =
        runner.run(
            t,
            new WorkloadRunner.Phase(
                Workload.PUT, 2, Duration.ofMillis(300), 0, Duration.ofMillis(100), keys, 64, 1));
    assertTrue(r.ok());
    assertTrue(r.seconds() >= 0.29 && r.seconds() < 5, "seconds " + r.seconds());
    // Warm-up calls are made but not recorded.
    assertTrue(t.puts.get() - before > r.ops());
    assertEquals(r.ops() / r.seconds(), r.opsPerSec(), 1e-6);
    assertSaneLatencies(r);
  }

  @Test
  void casCountsConflictsNotErrors() {
    MapTarget t = new MapTarget();
    KeySpace keys = new KeySpace("t", 1); // every client fights over one key
    runner.load(t, keys, 16, 1);
    Result r = runner.run(t, phase(Workload.CAS, 8, 20000, keys));
    assertEquals(0, r.errors());
    assertTrue(r.conflicts() <= r.ops());
  }

  @Test
  void mixedDoesReadsAndWrites() {
    MapTarget t = new MapTarget();
    KeySpace keys = new KeySpace("t", 50);
    runner.load(t, keys, 16, 2);
    long puts = t.puts.get();
    long gets = t.gets.get();
    Result r = runner.run(t, phase(Workload.MIXED, 2, 10000, keys));
    long dp = t.puts.get() - puts;
    long dg = t.gets.get() - gets;
    assertTrue(dp > 0 && dg > dp * 3, "puts " + dp + " gets " + dg);
    assertTrue(r.ops() >= 10000);
  }

  @Test
  void errorsAreCountedWithTheFirstMessage() {
    MapTarget failing = new MapTarget();
    failing.down = true;
    Result r =
        runner.run(
            failing,
            new WorkloadRunner.Phase(
                Workload.GET,
                2,
                Duration.ofMillis(200),
                0,
                Duration.ZERO,
                new KeySpace("t", 10),
                64,
                1));
    assertEquals(0, r.ops());
    assertTrue(r.errors() > 0);
    assertNotNull(r.firstError());
    assertTrue(r.firstError().contains("backend down: t/k"), r.firstError());
  }

  @Test
  void aClientThreadKilledByALinkageErrorIsReportedNotLost() {
    MapTarget broken = new MapTarget();
    broken.classPathBroken = true;
    Result r =
        runner.run(
            broken,
            new WorkloadRunner.Phase(
                Workload.GET,
                3,
                Duration.ofMillis(200),
                0,
                Duration.ZERO,
                new KeySpace("t", 10),
                64,
                1));
    assertEquals(0, r.ops());
    assertEquals(3, r.errors(), "one per dead client thread");
    assertTrue(r.firstError().contains("NoClassDefFoundError"), r.firstError());
  }

  @Test
  void watchMeasuresDeliveryToEveryWatcher() {
    MapTarget t = new MapTarget();
    KeySpace keys = new KeySpace("t", 1);
    Result r =
        runner.run(
            t,
            new WorkloadRunner.Phase(
                Workload.WATCH,
                5,
                Duration.ofMillis(500),
                0,
                Duration.ofMillis(50),
                keys,
                64,
                200));
    assertTrue(r.ok(), "delivered nothing");
    assertEquals("watch", r.workload());
    assertEquals(0, r.errors());
    assertNotNull(r.extra());
    assertTrue(r.extra().contains("puts/s"), r.extra());
    assertEquals(0, t.watcherCount(), "subscriptions closed after the phase");
    assertSaneLatencies(r);
  }

  @Test
  void watchReportsTheTimeFromAcknowledgementToDelivery() {
    MapTarget t = new MapTarget();
    Result r =
        runner.run(
            t,
            new WorkloadRunner.Phase(
                Workload.WATCH,
                3,
                Duration.ofMillis(400),
                0,
                Duration.ofMillis(50),
                new KeySpace("t", 1),
                16,
                500));
    assertTrue(r.ok(), "delivered nothing");
    // MapTarget queues the event inside put(), so a watcher sees it around the put's return.
    assertTrue(
        r.extra().matches(".*put acknowledged to delivery p50 [0-9.]+ ms, p99 [0-9.]+ ms.*"),
        r.extra());
    assertTrue(r.extra().contains("of deliveries came before the put returned"), r.extra());
  }

  @Test
  void ackToDeliveryLatencyIsMeasuredFromTheAckAndEarlyDeliveriesCountAsZero() {
    WorkloadRunner.Acks acks = new WorkloadRunner.Acks();
    acks.acknowledged(5, 1_000_000);
    acks.delivered(5, 3_000_000); // 2 ms after the ack
    acks.delivered(6, 3_500_000); // put 6 not acknowledged yet
    acks.acknowledged(6 + WorkloadRunner.Acks.ACK_RING, 100); // a later put in 6's slot
    acks.delivered(6, 4_000_000); // still not put 6's ack
    org.HdrHistogram.Histogram h = acks.afterAck.getIntervalHistogram();
    assertEquals(3, h.getTotalCount());
    assertEquals(2, acks.beforeAck.get());
    assertEquals(0, h.getMinValue());
    assertEquals(2.0, h.getMaxValue() / 1e6, 0.01);
  }

  @Test
  void watchWithValuesTooSmallForASequenceNumberLeavesTheAckFigureOut() {
    MapTarget t = new MapTarget();
    Result r =
        runner.run(
            t,
            new WorkloadRunner.Phase(
                Workload.WATCH,
                2,
                Duration.ofMillis(300),
                0,
                Duration.ZERO,
                new KeySpace("t", 1),
                8,
                500));
    assertTrue(r.ok(), "delivered nothing");
    assertTrue(!r.extra().contains("acknowledged"), r.extra());
  }

  @Test
  void pipelinedPutKeepsSeveralInFlightAndCountsEveryCompletion() {
    MapTarget t = new MapTarget();
    t.pipelining = true;
    KeySpace keys = new KeySpace("t", 100);
    runner.load(t, keys, 16, 4);
    long before = t.puts.get();
    Result r =
        runner.run(
            t,
            new WorkloadRunner.Phase(
                Workload.PIPELINED_PUT,
                2,
                Duration.ofSeconds(30),
                3000,
                Duration.ZERO,
                keys,
                64,
                1,
                8));
    assertEquals("pipelined-put", r.workload());
    assertEquals(0, r.errors());
    assertTrue(r.ops() >= 3000, "ops " + r.ops());
    // Every recorded op completed a real put; the drain waits for the ones still in flight.
    assertTrue(t.puts.get() - before >= r.ops());
    assertTrue(t.puts.get() - before <= r.ops() + 2 * 8, "at most the pipelines' depth extra");
    assertTrue(r.extra().contains("8 puts in flight"), r.extra());
    assertSaneLatencies(r);
  }

  @Test
  void pipelinedPutFailuresAreErrorsWithTheirCause() {
    MapTarget t = new MapTarget();
    t.pipelining = true;
    t.failEveryNthAsync = 10;
    Result r =
        runner.run(
            t,
            new WorkloadRunner.Phase(
                Workload.PIPELINED_PUT,
                1,
                Duration.ofMillis(300),
                0,
                Duration.ZERO,
                new KeySpace("t", 10),
                64,
                1,
                4));
    assertTrue(r.ok());
    assertTrue(r.errors() > 0);
    assertTrue(r.firstError().startsWith("IllegalStateException: async put"), r.firstError());
  }

  @Test
  void pipelinedPutRefusesATargetThatCannotPipeline() {
    MapTarget t = new MapTarget();
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () ->
                runner.run(
                    t,
                    new WorkloadRunner.Phase(
                        Workload.PIPELINED_PUT,
                        1,
                        Duration.ofMillis(100),
                        0,
                        Duration.ZERO,
                        new KeySpace("t", 10),
                        64,
                        1)));
    assertTrue(e.getMessage().contains("does not pipeline"), e.getMessage());
  }

  @Test
  void loadFromAnOffsetWritesOnlyTheRestOfTheSpace() {
    MapTarget t = new MapTarget();
    KeySpace keys = new KeySpace("t", 1000);
    runner.load(t, keys.first(300), 32, 8);
    Result r = runner.load(t, keys, 300, 32, 8);
    assertEquals(700, r.ops());
    assertEquals(1000, t.map.size());
    assertEquals(1000, t.puts.get(), "no key written twice");
    assertEquals(300, keys.first(300).size());
    org.junit.jupiter.api.Assertions.assertThrows(
        IndexOutOfBoundsException.class, () -> keys.first(300).key(300));
  }

  private static void assertSaneLatencies(Result r) {
    assertTrue(r.p50Us() > 0, "p50 " + r.p50Us());
    assertTrue(
        r.p50Us() <= r.p99Us() && r.p99Us() <= r.p999Us() && r.p999Us() <= r.maxUs() * 1.001,
        r.toString());
    assertTrue(Double.isFinite(r.opsPerSec()) && r.opsPerSec() > 0, r.toString());
  }
}
