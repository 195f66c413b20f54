package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Closeable;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A connection that lost bytes while its link was cut never carries another byte: healing closes it
 * before the link reopens, and one tainted after the link reopened is closed at once.
 */
class LinkTest {
  /** A connection that records whether its link was still cut when it was closed. */
  private static final class Connection implements Closeable {
    final Link link;
    final List<Boolean> closedWhileCut = new ArrayList<>();

    Connection(Link link) {
      this.link = link;
    }

    @Override
    public void close() {
      closedWhileCut.add(link.isCut());
    }
  }

  @Test
  void healingClosesTaintedConnectionsBeforeTheLinkReopens() {
    Link link = new Link("n1", "n2");
    Connection c = new Connection(link);
    link.cut();
    link.taint(c);
    assertTrue(c.closedWhileCut.isEmpty(), "closed while the cut lasts");
    link.heal();
    assertEquals(List.of(true), c.closedWhileCut, "closed after the link reopened");
    assertFalse(link.isCut());
  }

  @Test
  void aConnectionTaintedAfterTheHealIsClosedAtOnce() {
    Link link = new Link("n1", "n2");
    Connection c = new Connection(link);
    link.cut();
    link.heal();
    // A pump that saw the cut, then recorded its drop after the heal.
    link.taint(c);
    assertEquals(List.of(false), c.closedWhileCut);
  }
}
