package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.Config;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The Raft layer alone (members, state machine, channel, snapshots) over a list state. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RaftLayerIT {
  @TempDir Path dir;

  private final Map<String, ListState> states = new ConcurrentHashMap<>();

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private RaftSettings settings() {
    return RaftSettings.of(
        Config.builder()
            .option(RaftSettings.ELECTION_TIMEOUT_MS, "300")
            .option(RaftSettings.SNAPSHOT_THRESHOLD, "50")
            .build());
  }

  private RaftMember start(RaftPeer p, RaftGroup g, boolean join) {
    return RaftMember.start(
        p,
        g,
        settings(),
        dir.resolve(p.getId().toString()),
        d -> states.computeIfAbsent(p.getId().toString(), k -> new ListState()),
        join);
  }

  static void waitUntil(BooleanSupplier c, Duration d, String what) throws InterruptedException {
    long end = System.nanoTime() + d.toNanos();
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  @Test
  void replicatesSnapshotsAndCatchesUpANewMember() throws Exception {
    List<RaftPeer> peers = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      peers.add(Peers.parse("n" + i + "=127.0.0.1:" + freePort()));
    }
    RaftGroup g = Peers.group("t", peers);
    List<RaftMember> members = new ArrayList<>();
    for (RaftPeer p : peers) {
      members.add(start(p, g, false));
    }
    RaftMember extra = null;
    try (RaftChannel<byte[], byte[]> ch =
        new RaftChannel<>(
            g,
            peers.get(0).getId(),
            settings(),
            ListState::encodeBatch,
            ListState::decodeResults,
            c -> c.length,
            null)) {
      List<CompletableFuture<byte[]>> fs = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        fs.add(ch.write(("v" + i).getBytes(StandardCharsets.UTF_8)));
      }
      long last = 0;
      for (CompletableFuture<byte[]> f : fs) {
        long rev = java.nio.ByteBuffer.wrap(f.get(30, TimeUnit.SECONDS)).getLong();
        assertTrue(rev > last, "revisions grow: " + rev + " after " + last);
        last = rev;
      }
      ch.barrier().get(10, TimeUnit.SECONDS);
      assertEquals(500, states.get("n1").items().size());

      // More entries than the snapshot threshold, then a new member catches up by snapshot.
      for (int i = 0; i < 120; i++) {
        ch.write(("w" + i).getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
      }
      RaftPeer p4 = Peers.parse("n4=127.0.0.1:" + freePort());
      extra = start(p4, g, true);
      List<RaftPeer> all = new ArrayList<>(peers);
      all.add(p4);
      ch.setMembers(all);
      ch.write("after".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
      waitUntil(
          () -> states.get("n4").items().size() == 621, Duration.ofSeconds(30), "n4 catches up");
      assertEquals(states.get("n1").items(), states.get("n4").items());
    } finally {
      List<RaftMember> all = new ArrayList<>(members);
      if (extra != null) {
        all.add(extra);
      }
      all.parallelStream().forEach(RaftMember::close);
    }
  }
}
