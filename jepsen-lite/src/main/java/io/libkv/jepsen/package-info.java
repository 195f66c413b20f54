/**
 * jepsen-lite: tries to break the embedded store and checks what it saw.
 *
 * <p>The pieces: a linearizability checker for register histories (WGL search with memoisation, per
 * key, with a time and state budget whose exhaustion gives {@link io.libkv.jepsen.Verdict UNKNOWN},
 * never a pass); a fault proxy per directed peer link (cut one way or both, delay, heal); a cluster
 * of embedded nodes as separate JVM processes; nemeses (partitions, kill -9, SIGSTOP pauses, clock
 * offsets and rates); workloads (registers, set, fenced lock, watch); and the {@link
 * io.libkv.jepsen.JepsenCommand} that runs them from a seed.
 *
 * <p><b>Threading.</b> The checker is stateless and checks keys in parallel. The proxy and the
 * cluster own their threads and stop them on {@code close()}.
 *
 * <p><b>Errors.</b> Harness failures (a node that does not start, a port that cannot be bound) are
 * unchecked exceptions naming the node, port or file; store errors seen by workloads are recorded
 * in the history as failed or unknown operations, never swallowed.
 */
package io.libkv.jepsen;
