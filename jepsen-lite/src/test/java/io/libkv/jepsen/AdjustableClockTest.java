package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AdjustableClockTest {
  /** Waits (by polling the real clock) until {@code ns} of real time have passed. */
  private static void spinFor(long ns) {
    long end = System.nanoTime() + ns;
    while (System.nanoTime() < end) {
      Thread.onSpinWait();
    }
  }

  @Test
  void jumpsForwardAndChangesRate() {
    AdjustableClock c = new AdjustableClock();
    long before = c.nanoTime();
    c.adjust(TimeUnit.SECONDS.toNanos(10), 1.0);
    assertTrue(c.nanoTime() - before >= TimeUnit.SECONDS.toNanos(10));

    c.adjust(0, 4.0);
    long realStart = System.nanoTime();
    long start = c.nanoTime();
    spinFor(TimeUnit.MILLISECONDS.toNanos(50));
    long real = System.nanoTime() - realStart;
    long seen = c.nanoTime() - start;
    assertTrue(seen >= 3 * real, "at 4x, " + seen + " ns passed for " + real + " real ns");
    assertEquals(4.0, c.rate());
  }

  @Test
  void neverGoesBackwards() {
    AdjustableClock c = new AdjustableClock();
    long last = c.nanoTime();
    double[] rates = {4.0, 0.25, 1.0, 2.0, 0.5};
    for (double r : rates) {
      c.adjust(0, r);
      long now = c.nanoTime();
      assertFalse(now < last, "went back from " + last + " to " + now + " at rate " + r);
      last = now;
    }
  }

  @Test
  void refusesBackwardJumpsAndBadRates() {
    AdjustableClock c = new AdjustableClock();
    assertThrows(IllegalArgumentException.class, () -> c.adjust(-1, 1.0));
    assertThrows(IllegalArgumentException.class, () -> c.adjust(0, 0.0));
    assertThrows(IllegalArgumentException.class, () -> c.adjust(0, Double.NaN));
  }
}
