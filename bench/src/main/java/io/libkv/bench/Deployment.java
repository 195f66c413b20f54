package io.libkv.bench;

import java.nio.file.Path;
import java.util.List;

/**
 * A running backend for the harness: the servers it started (on loopback, free ports) and the
 * targets that drive it. {@link #close()} stops every server and deletes its data.
 */
interface Deployment extends AutoCloseable {

  /** The backend's name in results: {@code embedded}, {@code etcd}, {@code zk}, {@code lmdb}. */
  String name();

  /** What runs, for the results: version, members, ports, durability. */
  String description();

  /**
   * Opens the targets to measure: the backend's {@code Store} first, then any baselines (raw jetcd
   * for etcd).
   *
   * @param connections how many clients ({@code Store}s) to spread the client threads over
   */
  List<Target> openTargets(int connections);

  /** The directory holding every member's data (measured for disk bytes per key). */
  Path dataDir();

  /**
   * The process ids of the servers holding the data, for resident memory; empty if the data lives
   * in this JVM.
   */
  default List<Long> serverPids() {
    return List.of();
  }

  /**
   * Which member leads now, for a backend whose results depend on it (a store on the leader's
   * member takes a shorter path than one on a follower's); {@code null} if the backend has no such
   * notion or it cannot be told.
   */
  default String leaderNow() {
    return null;
  }

  @Override
  void close();
}
