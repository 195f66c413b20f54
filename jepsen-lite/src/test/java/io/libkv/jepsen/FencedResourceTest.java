package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class FencedResourceTest {
  @Test
  void refusesOlderTokensAndCountsSharedTokens() {
    FencedResource r = new FencedResource();
    assertTrue(r.write(5, 1));
    assertTrue(r.write(5, 1));
    assertTrue(r.write(7, 2));
    assertFalse(r.write(5, 1), "a holder paused past its lease is fenced off");
    assertEquals(1, r.rejected());
    assertEquals(0, r.staleAccepted());
    // A new holder handed a token that another holder had: the resource cannot tell, we count it.
    assertTrue(r.write(7, 3));
    assertEquals(1, r.staleAccepted());
    assertEquals(4, r.accepted());
  }
}
