/**
 * Micrometer metrics for libkv-java: {@link io.libkv.micrometer.MeteredStore} times every call of
 * any {@link io.libkv.store.Store} (per backend, operation and outcome), and {@link
 * io.libkv.micrometer.EmbeddedMemberMetrics} exposes the state of an embedded member (role, term,
 * indexes, disk, watches, leases, queued writes) as gauges.
 *
 * <p><b>Threads.</b> Both are thread-safe and start no thread: timers are recorded on the calling
 * thread (or the thread completing a pipelined call's future), gauges are read on the thread that
 * asks the registry for them (a scrape).
 *
 * <p><b>Errors.</b> A metered store throws exactly what the store it wraps throws. The factories
 * throw {@link NullPointerException} for a missing argument and {@link IllegalArgumentException}
 * for a blank backend name. Nothing in this package throws a checked exception.
 */
package io.libkv.micrometer;
