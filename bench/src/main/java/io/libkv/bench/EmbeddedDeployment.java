package io.libkv.bench;

import io.libkv.LibKV;
import io.libkv.bench.jmh.BenchDirs;
import io.libkv.raft.ClusterAdmin;
import io.libkv.raft.MemberStatus;
import io.libkv.spi.JvmAccess;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * An embedded cluster of {@code members} nodes. In {@code process} mode each member is a child JVM
 * running the raft module's {@code EmbeddedNode} main, and the harness is a client of the cluster
 * (no nodeId), like the etcd and ZooKeeper runs; in {@code in-process} mode the members run inside
 * the harness's JVM and the client threads call the members' own stores, as an application
 * embedding a node would.
 */
final class EmbeddedDeployment implements Deployment {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  /** The raft module's process entry point for one member. */
  static final String NODE_MAIN = "io.libkv.raft.EmbeddedNode";

  /** How the members run. */
  enum Mode {
    PROCESS,
    IN_PROCESS
  }

  private final Path dir;
  private final Mode mode;
  private final List<String> peers;
  private final Map<String, String> options;
  private final List<ChildProcess> processes = new ArrayList<>();
  private final List<Store> members = new ArrayList<>();
  private ClusterAdmin admin;

  private EmbeddedDeployment(Path dir, Mode mode, List<String> peers, Map<String, String> options) {
    this.dir = dir;
    this.mode = mode;
    this.peers = peers;
    this.options = options;
  }

  /** A cluster with the default options. */
  static EmbeddedDeployment start(Path baseDir, int size, Mode mode) {
    return start(baseDir, size, mode, Map.of());
  }

  /** A cluster whose members and stores take {@code options} ({@code embedded.*}). */
  static EmbeddedDeployment start(Path baseDir, int size, Mode mode, Map<String, String> options) {
    Path dir = EtcdDeployment.tempDir(baseDir, "embedded");
    List<Integer> ports = Net.freePorts(size);
    List<String> peers = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      peers.add("n" + (i + 1) + "=" + Net.HOST + ":" + ports.get(i));
    }
    EmbeddedDeployment d =
        new EmbeddedDeployment(dir, mode, List.copyOf(peers), Map.copyOf(options));
    try {
      if (mode == Mode.PROCESS) {
        for (int i = 0; i < size; i++) {
          String id = "n" + (i + 1);
          List<String> cmd =
              new ArrayList<>(
                  ChildProcess.javaCommand(
                      "512m", Arrays.asList(JvmAccess.REQUIRED_FLAGS.split(" ")), NODE_MAIN));
          cmd.addAll(
              List.of(
                  "--id",
                  id,
                  "--peers",
                  String.join(",", peers),
                  "--data-dir",
                  dir.resolve(id).toString()));
          options.forEach((k, v) -> cmd.addAll(List.of("--option", k + "=" + v)));
          d.processes.add(ChildProcess.start("embedded " + id, cmd, dir, dir.resolve(id + ".log")));
        }
      } else {
        for (int i = 0; i < size; i++) {
          String id = "n" + (i + 1);
          d.members.add(
              LibKV.newStore(
                  Backend.EMBEDDED, peers, d.config().nodeId(id).dataDir(dir.resolve(id)).build()));
        }
      }
      d.awaitWritable();
      return d;
    } catch (RuntimeException e) {
      d.close();
      throw e;
    }
  }

  /** Waits until a put through a client store succeeds: the cluster has a leader. */
  private void awaitWritable() {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      for (ChildProcess p : processes) {
        p.checkAlive();
      }
      try (Store s = openOne()) {
        s.put("bench-ready", "1".getBytes(StandardCharsets.UTF_8), null);
        return;
      } catch (RuntimeException e) {
        last = e;
      }
      EtcdDeployment.pause();
    }
    StringBuilder logs = new StringBuilder();
    for (ChildProcess p : processes) {
      logs.append('\n').append(p.tail());
    }
    throw new BenchException("embedded cluster not writable after " + START_TIMEOUT + logs, last);
  }

  private Store openOne() {
    if (mode == Mode.IN_PROCESS) {
      return new ForwardingStore(members.get(0)); // closing it leaves the member running
    }
    return LibKV.newStore(
        Backend.EMBEDDED, peers, config().connectionTimeout(Duration.ofSeconds(5)).build());
  }

  private Config.Builder config() {
    Config.Builder b = Config.builder();
    options.forEach(b::option);
    return b;
  }

  @Override
  public String name() {
    return "embedded";
  }

  @Override
  public String description() {
    return "Backend.EMBEDDED, "
        + peers.size()
        + " node(s) "
        + (mode == Mode.PROCESS
            ? "as child JVMs (-Xmx512m, io.libkv.raft.EmbeddedNode), the harness a client of the"
                + " cluster"
            : "inside the harness's JVM, client threads spread over the members' own stores")
        + ", peers "
        + String.join(",", peers)
        + ", data in "
        + dir
        + "; default (linearizable) reads"
        + (options.isEmpty() ? "" : "; options " + options);
  }

  @Override
  public List<Target> openTargets(int connections) {
    if (mode == Mode.PROCESS) {
      return List.of(
          StoreTarget.open(
              "embedded",
              Backend.EMBEDDED,
              peers,
              connections,
              config().connectionTimeout(Duration.ofSeconds(20)).build()));
    }
    // In-process, client threads are spread over every member's store, as an application
    // running on each node would be (writes reach the leader from any member).
    return List.of(
        new StoreTarget("embedded", members.stream().<Store>map(ForwardingStore::new).toList()));
  }

  @Override
  public Path dataDir() {
    return dir;
  }

  /** Asks the members who leads (a client's {@link ClusterAdmin}, opened on first use). */
  @Override
  public String leaderNow() {
    try {
      if (admin == null) {
        admin =
            ClusterAdmin.connect(peers, config().connectionTimeout(Duration.ofSeconds(5)).build());
      }
      return admin.members().stream()
          .filter(m -> m.role() == MemberStatus.Role.LEADER)
          .map(MemberStatus::id)
          .findFirst()
          .orElse("none");
    } catch (RuntimeException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  @Override
  public List<Long> serverPids() {
    return processes.stream().map(ChildProcess::pid).toList();
  }

  @Override
  public void close() {
    if (admin != null) {
      try {
        admin.close();
      } catch (Exception e) {
        System.err.println("bench: closing the cluster admin handle failed: " + e);
      }
    }
    for (Store m : members) {
      try {
        m.close();
      } catch (RuntimeException e) {
        System.err.println("bench: closing an embedded member failed: " + e);
      }
    }
    for (ChildProcess p : processes) {
      p.close(); // SIGTERM: EmbeddedNode closes the member from its shutdown hook
    }
    BenchDirs.deleteOrWarn(dir);
  }
}
