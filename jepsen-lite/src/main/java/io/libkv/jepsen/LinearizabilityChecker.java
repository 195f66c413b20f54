package io.libkv.jepsen;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

/**
 * Checks that a history of register operations (read, write, compare-and-set on many keys) is
 * linearizable, in the manner of Porcupine and Knossos: the history is split per key (registers on
 * different keys are independent), and each key is searched with the Wing-Gong-Lowe algorithm,
 * memoising every (set of linearized operations, register value) pair already explored.
 *
 * <p>Operations with outcome FAIL are dropped (they did not happen). Operations with outcome INFO
 * (timed out, connection lost) never return: they may take effect at any time after their
 * invocation, or never. INFO reads tell nothing and are dropped too.
 *
 * <p>Every key has a budget of time and of memoised states. A key whose search exceeds it is {@link
 * Verdict#UNKNOWN}, never valid. For every invalid key the checker shrinks the history to a small
 * one that is still invalid (keeping the writes whose values the remaining operations saw).
 *
 * <p>Thread-safe: each call works on its own data; keys are checked in parallel.
 */
final class LinearizabilityChecker {
  private final Duration timePerKey;
  private final long maxStatesPerKey;
  private final Duration shrinkTimePerKey;

  LinearizabilityChecker(Duration timePerKey, long maxStatesPerKey, Duration shrinkTimePerKey) {
    this.timePerKey = Objects.requireNonNull(timePerKey, "timePerKey");
    this.maxStatesPerKey = maxStatesPerKey;
    this.shrinkTimePerKey = Objects.requireNonNull(shrinkTimePerKey, "shrinkTimePerKey");
    if (maxStatesPerKey < 1) {
      throw new IllegalArgumentException(
          "maxStatesPerKey must be positive, was " + maxStatesPerKey);
    }
  }

  /** A checker with 20 s and 2 million states per key and 10 s to shrink each failure. */
  static LinearizabilityChecker defaults() {
    return new LinearizabilityChecker(Duration.ofSeconds(20), 2_000_000, Duration.ofSeconds(10));
  }

  /** The outcome of one key. {@code failing} is the shrunk invalid history, empty otherwise. */
  record KeyResult(
      String key, Verdict verdict, int ops, long states, String why, List<Op> failing) {}

  /** The outcome of a whole history: VALID only if every key is. */
  record Result(Verdict verdict, List<KeyResult> keys) {
    /** The keys that were not valid. */
    List<KeyResult> problems() {
      return keys.stream().filter(k -> k.verdict() != Verdict.VALID).toList();
    }

    /**
     * Writes {@code summary.txt}, and for every invalid key its shrunk history ({@code
     * <key>.history.txt}, one {@link Op#toLine()} per line) and a timeline picture ({@code
     * <key>.svg}) into {@code dir}.
     */
    void writeReport(Path dir) {
      try {
        Files.createDirectories(dir);
        StringBuilder sb = new StringBuilder("verdict " + verdict + "\n");
        for (KeyResult k : keys) {
          sb.append(k.key())
              .append(' ')
              .append(k.verdict())
              .append(" ops=")
              .append(k.ops())
              .append(" states=")
              .append(k.states())
              .append(k.why().isEmpty() ? "" : " " + k.why())
              .append('\n');
          if (k.verdict() == Verdict.INVALID) {
            String base = safeName(k.key());
            Files.writeString(
                dir.resolve(base + ".history.txt"),
                k.failing().stream().map(Op::toLine).collect(Collectors.joining("\n", "", "\n")),
                StandardCharsets.UTF_8);
            Files.writeString(
                dir.resolve(base + ".svg"),
                TimelineSvg.render("key " + k.key() + ": not linearizable", k.failing()),
                StandardCharsets.UTF_8);
          }
        }
        Files.writeString(dir.resolve("summary.txt"), sb.toString(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the checker report to " + dir, e);
      }
    }
  }

  static String safeName(String key) {
    return key.replaceAll("[^A-Za-z0-9_.-]", "_");
  }

  /** Checks a history of any number of keys, the keys in parallel. */
  Result check(List<Op> history) {
    Map<String, List<Op>> byKey =
        history.stream()
            .collect(Collectors.groupingBy(Op::key, LinkedHashMap::new, Collectors.toList()));
    int threads = Math.max(1, Math.min(byKey.size(), Runtime.getRuntime().availableProcessors()));
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "jepsen-checker");
              t.setDaemon(true);
              return t;
            });
    try {
      List<Future<KeyResult>> futures = new ArrayList<>();
      for (Map.Entry<String, List<Op>> e : byKey.entrySet()) {
        futures.add(pool.submit(() -> checkKey(e.getKey(), e.getValue())));
      }
      List<KeyResult> results = new ArrayList<>();
      Verdict v = Verdict.VALID;
      for (Future<KeyResult> f : futures) {
        KeyResult r;
        try {
          r = f.get();
        } catch (ExecutionException e) {
          throw new IllegalStateException("checker failed", e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while checking", e);
        }
        results.add(r);
        v = v.and(r.verdict());
      }
      return new Result(v, List.copyOf(results));
    } finally {
      pool.shutdownNow();
    }
  }

  /** Checks the operations of one key (all ops must be on that key). */
  KeyResult checkKey(String key, List<Op> ops) {
    Search s = search(ops, System.nanoTime() + timePerKey.toNanos());
    if (s.verdict != Verdict.INVALID) {
      return new KeyResult(key, s.verdict, ops.size(), s.states, s.why, List.of());
    }
    List<Op> small = shrink(ops, System.nanoTime() + shrinkTimePerKey.toNanos());
    return new KeyResult(key, Verdict.INVALID, ops.size(), s.states, s.why, small);
  }

  /** Outcome of one WGL search. */
  record Search(Verdict verdict, long states, String why) {}

  Search search(List<Op> ops, long deadlineNs) {
    return new Wgl(relevant(ops), maxStatesPerKey, deadlineNs).run();
  }

  /**
   * Drops what cannot matter: failed operations, reads with unknown outcome, and writes or CASes
   * with unknown outcome whose value no operation ever saw (one that nobody observed can always be
   * placed last, so dropping it changes no verdict, and it keeps the search small after faults).
   */
  static List<Op> relevant(List<Op> ops) {
    Set<String> observed = new HashSet<>();
    for (Op op : ops) {
      if (op.outcome() == Op.Outcome.FAIL) {
        continue;
      }
      if (op.kind() == Op.Kind.READ && op.outcome() == Op.Outcome.OK) {
        observed.add(op.value());
      }
      if (op.kind() == Op.Kind.CAS) {
        observed.add(op.expected());
      }
    }
    List<Op> out = new ArrayList<>(ops.size());
    for (Op op : ops) {
      if (op.outcome() == Op.Outcome.FAIL) {
        continue;
      }
      if (op.outcome() == Op.Outcome.INFO
          && (op.kind() == Op.Kind.READ || !observed.contains(op.value()))) {
        continue;
      }
      out.add(op);
    }
    return out;
  }

  /**
   * Greedy delta debugging: removes chunks of operations (halving the chunk size) while the rest
   * stays invalid. A write or CAS whose value a remaining operation reads or expects is kept, so
   * the result still explains where values came from.
   */
  List<Op> shrink(List<Op> ops, long deadlineNs) {
    List<Op> cur = relevant(ops);
    for (int chunk = Math.max(1, cur.size() / 2); chunk >= 1; chunk /= 2) {
      int i = 0;
      while (i < cur.size()) {
        if (System.nanoTime() > deadlineNs) {
          return cur;
        }
        List<Op> candidate = without(cur, i, Math.min(cur.size(), i + chunk));
        if (candidate.size() < cur.size()) {
          long budget = Math.min(deadlineNs, System.nanoTime() + timePerKey.toNanos());
          Search s = new Wgl(candidate, maxStatesPerKey, budget).run();
          if (s.verdict == Verdict.INVALID) {
            cur = candidate;
            continue;
          }
        }
        i += chunk;
      }
    }
    return cur;
  }

  private static List<Op> without(List<Op> ops, int from, int to) {
    List<Op> rest = new ArrayList<>(ops.size());
    rest.addAll(ops.subList(0, from));
    rest.addAll(ops.subList(to, ops.size()));
    Set<String> needed = new HashSet<>();
    for (Op op : rest) {
      if (op.kind() == Op.Kind.READ && op.value() != null) {
        needed.add(op.value());
      }
      if (op.kind() == Op.Kind.CAS && op.expected() != null) {
        needed.add(op.expected());
      }
    }
    List<Op> out = new ArrayList<>(ops.size());
    for (int i = 0; i < ops.size(); i++) {
      Op op = ops.get(i);
      boolean removed = i >= from && i < to;
      if (!removed || (op.kind() != Op.Kind.READ && needed.contains(op.value()))) {
        out.add(op);
      }
    }
    return out;
  }

  /** The register model: the state is the value, {@code null} when absent. */
  static final class Register {
    private Register() {}

    /** Returns the state after {@code op}, or {@link #ILLEGAL} if {@code op} cannot happen now. */
    static Object step(Object state, Op op) {
      switch (op.kind()) {
        case READ:
          return Objects.equals(state, op.value()) ? state : ILLEGAL;
        case WRITE:
          return op.value() == null ? NIL : op.value();
        case CAS:
          if (Objects.equals(state, op.expected())) {
            return op.value() == null ? NIL : op.value();
          }
          // An unknown CAS that found another value simply did nothing.
          return op.outcome() == Op.Outcome.INFO ? state : ILLEGAL;
        default:
          throw new IllegalStateException("unknown kind " + op.kind());
      }
    }

    static final Object ILLEGAL = new Object();
    static final Object NIL = null;
  }

  /** One WGL search over a doubly linked list of call and return events (Lowe's algorithm). */
  static final class Wgl {
    private static final class Entry {
      final int op;
      final boolean call;
      final long time;
      Entry match;
      Entry prev;
      Entry next;

      Entry(int op, boolean call, long time) {
        this.op = op;
        this.call = call;
        this.time = time;
      }
    }

    private record Memo(long[] bits, Object state) {
      @Override
      public boolean equals(Object o) {
        return o instanceof Memo m && Arrays.equals(bits, m.bits) && Objects.equals(state, m.state);
      }

      @Override
      public int hashCode() {
        return 31 * Arrays.hashCode(bits) + Objects.hashCode(state);
      }
    }

    private final List<Op> ops;
    private final long maxStates;
    private final long deadlineNs;

    Wgl(List<Op> ops, long maxStates, long deadlineNs) {
      this.ops = ops;
      this.maxStates = maxStates;
      this.deadlineNs = deadlineNs;
    }

    Search run() {
      int n = ops.size();
      if (n == 0) {
        return new Search(Verdict.VALID, 0, "");
      }
      List<Entry> events = new ArrayList<>(2 * n);
      for (int i = 0; i < n; i++) {
        Op op = ops.get(i);
        Entry call = new Entry(i, true, op.invokeNs());
        Entry ret = new Entry(i, false, op.returnNs());
        call.match = ret;
        ret.match = call;
        events.add(call);
        events.add(ret);
      }
      // Equal times count as concurrent: a call sorts before a return at the same instant.
      events.sort(Comparator.comparingLong((Entry e) -> e.time).thenComparing(e -> e.call ? 0 : 1));
      Entry head = new Entry(-1, true, Long.MIN_VALUE);
      Entry prev = head;
      for (Entry e : events) {
        prev.next = e;
        e.prev = prev;
        prev = e;
      }

      long[] linearized = new long[(n + 63) / 64];
      Set<Memo> cache = new HashSet<>();
      Entry[] stackEntry = new Entry[n];
      Object[] stackState = new Object[n];
      int depth = 0;
      Object state = Register.NIL;
      Entry entry = head.next;
      long steps = 0;
      int deepest = 0;
      while (head.next != null) {
        if ((++steps & 1023) == 0 && System.nanoTime() > deadlineNs) {
          return new Search(Verdict.UNKNOWN, cache.size(), "out of time after " + steps + " steps");
        }
        if (entry.call) {
          Op op = ops.get(entry.op);
          Object next = Register.step(state, op);
          if (next != Register.ILLEGAL) {
            long[] bits = linearized.clone();
            bits[entry.op >>> 6] |= 1L << entry.op;
            if (cache.add(new Memo(bits, next))) {
              if (cache.size() > maxStates) {
                return new Search(
                    Verdict.UNKNOWN,
                    cache.size(),
                    "out of memory: more than " + maxStates + " states");
              }
              stackEntry[depth] = entry;
              stackState[depth] = state;
              depth++;
              deepest = Math.max(deepest, depth);
              state = next;
              linearized = bits;
              lift(entry);
              entry = head.next;
              continue;
            }
          }
          entry = entry.next;
        } else {
          if (ops.get(entry.op).outcome() == Op.Outcome.INFO) {
            // Only unknown operations remain un-returned: each can take effect at the end, or
            // never.
            return new Search(Verdict.VALID, cache.size(), "");
          }
          if (depth == 0) {
            return new Search(
                Verdict.INVALID,
                cache.size(),
                "no linearization: at most " + deepest + " of " + n + " ops ordered");
          }
          depth--;
          entry = stackEntry[depth];
          state = stackState[depth];
          linearized = linearized.clone();
          linearized[entry.op >>> 6] &= ~(1L << entry.op);
          unlift(entry);
          entry = entry.next;
        }
      }
      return new Search(Verdict.VALID, cache.size(), "");
    }

    private static void lift(Entry call) {
      call.prev.next = call.next;
      call.next.prev = call.prev;
      Entry ret = call.match;
      ret.prev.next = ret.next;
      if (ret.next != null) {
        ret.next.prev = ret.prev;
      }
    }

    private static void unlift(Entry call) {
      Entry ret = call.match;
      ret.prev.next = ret;
      if (ret.next != null) {
        ret.next.prev = ret;
      }
      call.prev.next = call;
      call.next.prev = call;
    }
  }
}
