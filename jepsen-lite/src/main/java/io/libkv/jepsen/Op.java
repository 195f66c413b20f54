package io.libkv.jepsen;

import java.util.Objects;

/**
 * One operation of a register history: who did what to which key, when it was invoked, when it
 * completed and how.
 *
 * @param id a number unique within the history (used to name the operation in reports)
 * @param process the client process that ran it; a process runs one operation at a time
 * @param key the register's key
 * @param kind read, write or compare-and-set
 * @param value for a write or CAS the value written; for a read the value seen ({@code null} when
 *     the key was absent)
 * @param expected for a CAS the value it required; {@code null} otherwise
 * @param outcome whether it took effect: OK (known done), FAIL (known not done), INFO (unknown)
 * @param invokeNs when it was invoked
 * @param completeNs when its outcome came back; ignored for INFO, which may take effect any time
 *     after its invocation, or never
 */
record Op(
    long id,
    int process,
    String key,
    Kind kind,
    String value,
    String expected,
    Outcome outcome,
    long invokeNs,
    long completeNs) {

  /** What an operation does. */
  enum Kind {
    READ,
    WRITE,
    CAS
  }

  /** What became of an operation. */
  enum Outcome {
    /** Acknowledged: it took effect (and a read saw {@code value}). */
    OK,
    /** Definitely did not take effect. */
    FAIL,
    /** Timed out or the connection broke: it may take effect at any later time, or never. */
    INFO
  }

  Op {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(outcome, "outcome");
    if (outcome != Outcome.INFO && completeNs < invokeNs) {
      throw new IllegalArgumentException(
          "op " + id + " on key " + key + " completes at " + completeNs + " before " + invokeNs);
    }
  }

  /** The completion time used by the search: unknown outcomes never complete. */
  long returnNs() {
    return outcome == Outcome.INFO ? Long.MAX_VALUE : completeNs;
  }

  /** A short label such as {@code w 3}, {@code r nil}, {@code cas 1->2}, with {@code ?} if INFO. */
  String label() {
    String s =
        switch (kind) {
          case READ -> "r " + show(value);
          case WRITE -> "w " + show(value);
          case CAS -> "cas " + show(expected) + "->" + show(value);
        };
    return switch (outcome) {
      case OK -> s;
      case FAIL -> s + " fail";
      case INFO -> s + " ?";
    };
  }

  private static String show(String v) {
    return v == null ? "nil" : v;
  }

  /**
   * One line of the text form: {@code id process key kind value expected outcome invoke complete}.
   */
  String toLine() {
    return id
        + " "
        + process
        + " "
        + key
        + " "
        + kind
        + " "
        + show(value)
        + " "
        + show(expected)
        + " "
        + outcome
        + " "
        + invokeNs
        + " "
        + (outcome == Outcome.INFO ? "inf" : Long.toString(completeNs));
  }

  /**
   * Parses {@link #toLine()}.
   *
   * @throws IllegalArgumentException naming the line if it is malformed
   */
  static Op parse(String line) {
    String[] f = line.trim().split("\\s+");
    if (f.length != 9) {
      throw new IllegalArgumentException("bad history line (need 9 fields): '" + line + "'");
    }
    try {
      Outcome o = Outcome.valueOf(f[6]);
      return new Op(
          Long.parseLong(f[0]),
          Integer.parseInt(f[1]),
          f[2],
          Kind.valueOf(f[3]),
          "nil".equals(f[4]) ? null : f[4],
          "nil".equals(f[5]) ? null : f[5],
          o,
          Long.parseLong(f[7]),
          "inf".equals(f[8]) ? Long.MAX_VALUE : Long.parseLong(f[8]));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("bad history line: '" + line + "'", e);
    }
  }
}
