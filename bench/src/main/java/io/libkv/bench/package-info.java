/**
 * The comparison harness: runs the same workload (put, pipelined put through {@link
 * io.libkv.store.AsyncStore}, get, cas, mixed, watch) against every backend through the {@link
 * io.libkv.store.Store} API, and against etcd also through raw jetcd, recording each operation's
 * latency in an HdrHistogram; starts the servers each backend needs on loopback; writes the results
 * as JSON, Markdown and SVG charts. {@link io.libkv.bench.BenchCommand} is the command line ({@code
 * ./libkv bench}); its {@code scale} subcommand draws the scale curves (by data size and value
 * size, disk and memory per key, embedded restart and catch-up times).
 *
 * <p><b>Threads.</b> A run is driven by one thread; each measured phase starts its own client
 * threads and joins them before the next phase (a pipelined phase's threads wait for their pending
 * puts before they end). Launchers start child processes and stop them on {@code close()} (and from
 * a shutdown hook if the JVM exits first).
 *
 * <p><b>Errors.</b> A backend that cannot start, or a phase in which every operation fails, throws
 * {@link io.libkv.bench.BenchException} naming the backend and phase; failed operations within a
 * phase are counted in the result rather than thrown. Speed is never asserted: numbers are
 * reported.
 */
package io.libkv.bench;
