package io.libkv.jepsen;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/** Builds register histories for the checker's tests: by hand, or from a sequential model. */
final class Histories {
  private final List<Op> ops = new ArrayList<>();
  private final String key;

  private Histories(String key) {
    this.key = key;
  }

  static Histories on(String key) {
    return new Histories(key);
  }

  Histories read(int p, String seen, long inv, long ret) {
    return add(p, Op.Kind.READ, seen, null, Op.Outcome.OK, inv, ret);
  }

  Histories write(int p, String v, long inv, long ret) {
    return add(p, Op.Kind.WRITE, v, null, Op.Outcome.OK, inv, ret);
  }

  Histories writeUnknown(int p, String v, long inv) {
    return add(p, Op.Kind.WRITE, v, null, Op.Outcome.INFO, inv, Long.MAX_VALUE);
  }

  Histories writeFailed(int p, String v, long inv, long ret) {
    return add(p, Op.Kind.WRITE, v, null, Op.Outcome.FAIL, inv, ret);
  }

  Histories cas(int p, String expected, String v, long inv, long ret) {
    return add(p, Op.Kind.CAS, v, expected, Op.Outcome.OK, inv, ret);
  }

  Histories casUnknown(int p, String expected, String v, long inv) {
    return add(p, Op.Kind.CAS, v, expected, Op.Outcome.INFO, inv, Long.MAX_VALUE);
  }

  Histories add(int p, Op.Kind kind, String v, String expected, Op.Outcome o, long inv, long ret) {
    ops.add(new Op(ops.size(), p, key, kind, v, expected, o, inv, ret));
    return this;
  }

  List<Op> ops() {
    return List.copyOf(ops);
  }

  /**
   * A linearizable history of one key made by running a sequential register: operations take effect
   * at strictly increasing instants, and each is invoked up to {@code window} before and completes
   * up to {@code window} after its instant, on a process that is idle then. Some writes and CASes
   * have an unknown outcome (and took effect or not); their process is then retired.
   */
  static List<Op> generate(long seed, String key, int n, int window) {
    Random r = new Random(seed);
    int slots = 1 + r.nextInt(5);
    int[] pid = new int[slots];
    long[] busyUntil = new long[slots];
    int nextPid = 0;
    for (int s = 0; s < slots; s++) {
      pid[s] = nextPid++;
      busyUntil[s] = Long.MIN_VALUE;
    }
    List<String> written = new ArrayList<>();
    String state = null;
    long t = 0;
    List<Op> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      t += 1 + r.nextInt(10);
      long inv = t - r.nextInt(window + 1);
      long ret = t + r.nextInt(window + 1);
      int slot = r.nextInt(slots);
      if (busyUntil[slot] >= inv) {
        slot = -1;
        for (int s = 0; s < slots; s++) {
          if (busyUntil[s] < inv) {
            slot = s;
            break;
          }
        }
        if (slot < 0) {
          // Every process is busy: this one starts right after its instant instead.
          inv = t;
          slot = 0;
          for (int s = 1; s < slots; s++) {
            if (busyUntil[s] < busyUntil[slot]) {
              slot = s;
            }
          }
          if (busyUntil[slot] >= inv) {
            continue;
          }
        }
      }
      int roll = r.nextInt(100);
      Op.Kind kind = roll < 40 ? Op.Kind.READ : roll < 75 ? Op.Kind.WRITE : Op.Kind.CAS;
      Op.Outcome outcome = Op.Outcome.OK;
      String value = null;
      String expected = null;
      switch (kind) {
        case READ -> {
          value = state;
          if (r.nextInt(20) == 0) {
            outcome = Op.Outcome.INFO;
          }
        }
        case WRITE, CAS -> {
          value = "v" + i;
          boolean applies = true;
          if (kind == Op.Kind.CAS) {
            if (r.nextInt(10) < 6 || written.isEmpty()) {
              expected = state;
            } else {
              expected = written.get(r.nextInt(written.size()));
            }
            applies = Objects.equals(expected, state);
            if (!applies) {
              outcome = Op.Outcome.FAIL;
            }
          }
          if (r.nextInt(10) == 0) {
            outcome = Op.Outcome.INFO;
            applies = applies && r.nextBoolean();
          }
          if (applies) {
            state = value;
            written.add(value);
          }
        }
      }
      out.add(
          new Op(
              out.size(),
              pid[slot],
              key,
              kind,
              value,
              expected,
              outcome,
              inv,
              outcome == Op.Outcome.INFO ? Long.MAX_VALUE : ret));
      if (outcome == Op.Outcome.INFO) {
        pid[slot] = nextPid++;
        busyUntil[slot] = ret;
      } else {
        busyUntil[slot] = ret;
      }
    }
    return List.copyOf(out);
  }

  /**
   * Breaks a history for sure: an acknowledged read now sees a value nobody wrote (or, with no such
   * read, an acknowledged CAS expects one; with neither, such a read is appended).
   */
  static List<Op> corrupt(List<Op> ops, long seed) {
    Random r = new Random(seed ^ 0x5DEECE66DL);
    List<Op> out = new ArrayList<>(ops);
    List<Integer> candidates = new ArrayList<>();
    for (int i = 0; i < out.size(); i++) {
      Op op = out.get(i);
      if (op.outcome() == Op.Outcome.OK && op.kind() != Op.Kind.WRITE) {
        candidates.add(i);
      }
    }
    if (candidates.isEmpty()) {
      long end = out.stream().mapToLong(Op::invokeNs).max().orElse(0) + 1;
      out.add(
          new Op(
              out.size(),
              999,
              ops.isEmpty() ? "k" : ops.get(0).key(),
              Op.Kind.READ,
              "never-written",
              null,
              Op.Outcome.OK,
              end,
              end + 1));
      return out;
    }
    int i = candidates.get(r.nextInt(candidates.size()));
    Op op = out.get(i);
    Op bad =
        op.kind() == Op.Kind.READ
            ? new Op(
                op.id(),
                op.process(),
                op.key(),
                op.kind(),
                "never-written",
                null,
                op.outcome(),
                op.invokeNs(),
                op.completeNs())
            : new Op(
                op.id(),
                op.process(),
                op.key(),
                op.kind(),
                op.value(),
                "never-written",
                op.outcome(),
                op.invokeNs(),
                op.completeNs());
    out.set(i, bad);
    return out;
  }
}
