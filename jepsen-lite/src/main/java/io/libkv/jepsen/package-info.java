/**
 * jepsen-lite: tries to break the embedded store and checks what it saw.
 *
 * <p>The pieces: a linearizability checker for register histories (WGL search with memoisation, per
 * key, with a time and state budget whose exhaustion gives {@link io.libkv.jepsen.Verdict UNKNOWN},
 * never a pass); a fault proxy per directed peer link (cut one way or both, delay, heal); a cluster
 * of embedded nodes as separate JVM processes; nemeses (partitions, kill -9, simulated power loss
 * that undoes unsynced writes, SIGSTOP pauses, store-clock offsets and rates, whole-process clock
 * jumps under libfaketime, membership changes); workloads (registers, set, fenced lock, watch); and
 * the {@link io.libkv.jepsen.JepsenCommand} that runs them from a seed.
 *
 * <p><b>Threading.</b> The checker is stateless and checks keys in parallel. The proxy and the
 * cluster own their threads and stop them on {@code close()}. The nemesis runs on one thread, one
 * fault at a time.
 *
 * <p><b>Errors.</b> Harness failures (a node that does not start, a port that cannot be bound) are
 * unchecked exceptions naming the node, port or file; store errors seen by workloads are recorded
 * in the history as failed or unknown operations, never swallowed. A nemesis that needs a tool that
 * is missing (libfaketime for {@code process-clock}, a C compiler for {@code crash}) fails with an
 * {@link java.lang.IllegalStateException} naming the tool and its Debian package.
 */
package io.libkv.jepsen;
