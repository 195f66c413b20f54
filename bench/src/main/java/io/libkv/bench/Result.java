package io.libkv.bench;

import org.HdrHistogram.Histogram;

/**
 * One measured phase: a target running one workload with one number of clients. Latencies are in
 * microseconds.
 *
 * @param target the backend (or baseline) name, e.g. {@code etcd-raw}
 * @param workload {@code put}, {@code get}, {@code cas}, {@code mixed}, {@code watch} or {@code
 *     load}
 * @param clients client threads (watchers for {@code watch})
 * @param seconds the measured time
 * @param ops operations completed and recorded (events delivered for {@code watch})
 * @param errors operations that threw
 * @param conflicts CAS operations that found the key changed (not errors)
 * @param opsPerSec {@code ops / seconds}
 * @param firstError the first error seen, or {@code null}
 * @param extra a note, e.g. the writer's rate in a watch phase, or {@code null}
 */
record Result(
    String target,
    String workload,
    int clients,
    int valueSize,
    double seconds,
    long ops,
    long errors,
    long conflicts,
    double opsPerSec,
    double meanUs,
    double p50Us,
    double p90Us,
    double p99Us,
    double p999Us,
    double maxUs,
    String firstError,
    String extra) {

  static Result of(
      String target,
      String workload,
      int clients,
      int valueSize,
      double seconds,
      long errors,
      long conflicts,
      Histogram latencyNs,
      String firstError,
      String extra) {
    long ops = latencyNs.getTotalCount();
    boolean any = ops > 0;
    return new Result(
        target,
        workload,
        clients,
        valueSize,
        seconds,
        ops,
        errors,
        conflicts,
        seconds > 0 ? ops / seconds : 0,
        any ? latencyNs.getMean() / 1000.0 : 0,
        any ? latencyNs.getValueAtPercentile(50) / 1000.0 : 0,
        any ? latencyNs.getValueAtPercentile(90) / 1000.0 : 0,
        any ? latencyNs.getValueAtPercentile(99) / 1000.0 : 0,
        any ? latencyNs.getValueAtPercentile(99.9) / 1000.0 : 0,
        any ? latencyNs.getMaxValue() / 1000.0 : 0,
        firstError,
        extra);
  }

  /** Whether the phase measured anything. */
  boolean ok() {
    return ops > 0;
  }
}
