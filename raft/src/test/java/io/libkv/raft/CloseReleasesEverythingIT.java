package io.libkv.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.HeldLock;
import io.libkv.store.KVPair;
import io.libkv.store.Locker;
import io.libkv.store.Store;
import io.libkv.store.Watch;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * No thread, port or file handle outlives close(): three members opened through {@code
 * LibKV.newStore} in one JVM (each with its node id and data directory) plus a client-only store,
 * exercised (writes, reads, watches, a lock), then closed.
 *
 * <p>Only these JVM-wide threads may remain, by name: Ratis' shared timeout timers ({@code timerN},
 * static in Ratis' {@code TimeoutExecutor}), gRPC's shared cached executor ({@code
 * grpc-default-executor-N}, idle threads end after 60 s), the JDK's {@code
 * CompletableFutureDelayScheduler} and common fork-join pool workers.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CloseReleasesEverythingIT {
  private static final Pattern JVM_WIDE =
      Pattern.compile(
          "timer\\d+|grpc-default-executor-\\d+|CompletableFutureDelayScheduler|"
              + "ForkJoinPool\\.commonPool-worker-\\d+");

  @TempDir Path dir;

  @Test
  void closingEveryStoreStopsEveryThreadAndFreesEveryPortAndFile() throws Exception {
    cycle(dir.resolve("warmup"), 1); // loads classes and starts the JVM-wide pools once
    Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
    Path base = dir.resolve("run");
    List<Integer> ports = cycle(base, 3);

    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    List<String> left;
    while (true) {
      left =
          Thread.getAllStackTraces().keySet().stream()
              .filter(t -> t.isAlive() && !before.contains(t))
              .map(Thread::getName)
              .filter(n -> !JVM_WIDE.matcher(n).matches())
              .sorted()
              .collect(Collectors.toList());
      if (left.isEmpty() || System.nanoTime() - end > 0) {
        break;
      }
      Thread.sleep(50);
    }
    assertEquals(List.of(), left, "threads that outlived close()");
    for (int port : ports) {
      try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
        assertTrue(s.isBound());
      }
    }
    assertEquals(List.of(), openFilesUnder(base), "files still open after close()");
  }

  private static List<String> openFilesUnder(Path base) throws IOException {
    Path fds = Path.of("/proc/self/fd");
    if (!Files.isDirectory(fds)) {
      return List.of();
    }
    String root = base.toRealPath().toString();
    List<String> open = new ArrayList<>();
    try (Stream<Path> s = Files.list(fds)) {
      for (Path fd : s.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith(root)) {
            open.add(target);
          }
        } catch (IOException e) {
          // closed while listing
        }
      }
    }
    return open;
  }

  private static List<Integer> cycle(Path base, int members) throws Exception {
    List<Integer> ports = new ArrayList<>();
    List<String> peers = new ArrayList<>();
    for (int port : LoopbackPorts.reserve("127.0.0.1", members)) {
      ports.add(port);
      peers.add("n" + ports.size() + "=127.0.0.1:" + port);
    }
    Config.Builder common = Config.builder().option(RaftSettings.ELECTION_TIMEOUT_MS, "300");
    List<Store> stores = new ArrayList<>();
    try {
      for (int i = 1; i <= members; i++) {
        stores.add(
            LibKV.newStore(
                Backend.EMBEDDED,
                peers,
                common.build().toBuilder().nodeId("n" + i).dataDir(base.resolve("n" + i)).build()));
      }
      try (Store client = LibKV.newStore(Backend.EMBEDDED, peers, common.build())) {
        Watch<KVPair> w = stores.get(1 % members).watch("leak/k");
        Watch<KVPair> cw = client.watch("leak/k");
        client.put("leak/k", "v".getBytes(UTF_8), null);
        assertArrayEquals("v".getBytes(UTF_8), stores.get(2 % members).get("leak/k").value());
        assertArrayEquals("v".getBytes(UTF_8), w.poll(Duration.ofSeconds(10)).value());
        assertArrayEquals("v".getBytes(UTF_8), cw.poll(Duration.ofSeconds(10)).value());
        Locker l = stores.get(0).newLock("leak/lock", null);
        HeldLock h = l.lock();
        assertTrue(h.fencingToken() > 0);
        assertArrayEquals(
            new byte[0], client.get("leak/lock").value(), "the lock's key, seen by the client");
        // Left open on purpose: close() must release watches and locks.
      }
    } finally {
      stores.parallelStream().forEach(Store::close);
    }
    return ports;
  }
}
