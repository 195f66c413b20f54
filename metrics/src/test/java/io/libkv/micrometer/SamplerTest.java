package io.libkv.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class SamplerTest {

  @Test
  void aValueIsReadOnceAndReusedUntilItIsTooOld() {
    AtomicLong now = new AtomicLong(1_000);
    AtomicInteger reads = new AtomicInteger();
    Sampler<Integer> s = new Sampler<>(reads::incrementAndGet, now::get, 100);
    assertEquals(1, s.get());
    assertEquals(1, s.get());
    now.addAndGet(99);
    assertEquals(1, s.get(), "99 ns old: still fresh");
    now.addAndGet(1);
    assertEquals(2, s.get(), "100 ns old: read again");
    assertEquals(2, s.get());
    assertEquals(2, reads.get());
  }
}
