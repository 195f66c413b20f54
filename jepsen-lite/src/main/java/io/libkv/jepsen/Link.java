package io.libkv.jepsen;

import java.io.Closeable;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One direction of traffic between two nodes: everything node {@code from} sends to node {@code
 * to}, over every connection between them, whoever opened it. It can be cut (bytes are swallowed:
 * the receiver hears silence, the sender's writes still succeed, as with a dropping firewall),
 * delayed, and healed. Healing closes every connection that lost bytes while cut, so both ends
 * reconnect with clean streams.
 *
 * <p>Thread-safe: the nemesis changes it while proxy threads read it.
 */
final class Link {
  final String from;
  final String to;
  private volatile boolean cut;
  private volatile long delayNanos;
  private final Set<Closeable> tainted = ConcurrentHashMap.newKeySet();

  Link(String from, String to) {
    this.from = from;
    this.to = to;
  }

  boolean isCut() {
    return cut;
  }

  long delayNanos() {
    return delayNanos;
  }

  void cut() {
    cut = true;
  }

  void delay(long nanos) {
    if (nanos < 0) {
      throw new IllegalArgumentException("delay must be >= 0, was " + nanos + " ns on " + this);
    }
    delayNanos = nanos;
  }

  /**
   * Closes the connections that lost bytes, then reopens the link and removes the delay. In that
   * order: a connection that dropped bytes while cut must never carry another byte (its receiver
   * would decode a stream with a hole in it, which no network delivers); reopened first, a pump
   * could forward the bytes after the hole before the connection was closed. A connection whose
   * drop is recorded only after the link reopened is closed by {@link #taint} before its pump moves
   * on.
   */
  void heal() {
    closeTainted();
    cut = false;
    delayNanos = 0;
    closeTainted();
  }

  private void closeTainted() {
    for (Closeable c : tainted) {
      tainted.remove(c);
      try {
        c.close();
      } catch (IOException ignored) {
        // Already broken: nothing more to release.
      }
    }
  }

  /** Records that {@code connection} dropped bytes of this link, to close it on heal. */
  void taint(Closeable connection) {
    tainted.add(connection);
    if (!cut) {
      // Healed in between: close now rather than leave a stream with a hole in it.
      closeTainted();
    }
  }

  @Override
  public String toString() {
    return from + "->" + to;
  }
}
