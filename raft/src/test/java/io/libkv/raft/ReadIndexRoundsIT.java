package io.libkv.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.util.CodeInjectionForTesting;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A leader answers a linearizable read only after a majority has acknowledged an AppendEntries it
 * sent after the read arrived ({@link ReadIndexRounds}). Ratis 3.3.0's own check answers at once
 * when a heartbeat round has already acknowledged the commit index, so a leader cut off from its
 * followers served reads from its frozen state until it noticed and stepped down; this test failed
 * so on that check, on both transports.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReadIndexRoundsIT {
  @TempDir Path dir;

  /**
   * Reads through the cut-off leader's own store (confirmed before the read enters Ratis) and
   * through a follower's store (on Netty a read sent to the leader over the transport; on gRPC the
   * follower's ReadIndex request, confirmed before the leader answers it).
   */
  @ParameterizedTest
  @CsvSource({"netty, leader", "netty, follower", "grpc, leader", "grpc, follower"})
  void aLeaderCutOffFromItsFollowersAnswersNoReadWhileItStillLeads(String transport, String on)
      throws Exception {
    Config config = Config.builder().option(RaftSettings.TRANSPORT, transport).build();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(3).baseDir(dir).config(config).start()) {
      EmbeddedNode old = cluster.awaitLeader();
      String oldId = old.id();
      String other =
          cluster.runningIds().stream().filter(id -> !id.equals(oldId)).findFirst().get();
      try (Store onOld = old.openStore();
          Store reader = on.equals("leader") ? null : cluster.node(other).openStore()) {
        Store reads = reader != null ? reader : onOld;
        onOld.put("rir/k", "v1".getBytes(UTF_8), null);
        for (int i = 0; i < 20; i++) {
          reads.get("rir/k"); // heartbeat rounds acknowledge the commit index
        }
        long term = old.status().term();
        // The followers refuse every AppendEntries (heartbeats too) of the leader from now on.
        CodeInjectionForTesting.put(
            "RaftServerImpl.appendEntries",
            (local, remote, args) -> {
              if (String.valueOf(remote).equals(oldId)) {
                throw new RuntimeException(new IOException("cut off from " + oldId));
              }
              return false;
            });
        try {
          KVPair read;
          try {
            read = reads.get("rir/k");
          } catch (StoreException e) {
            return; // refused: no answer from a leadership nobody confirmed
          }
          // An answer may only come once the member stopped leading that term (it then reads
          // through the new leader, whose log it follows).
          boolean stillLeads = old.isLeader() && old.status().term() == term;
          assertFalse(
              stillLeads, oldId + " answered a linearizable read while cut off, in term " + term);
          assertArrayEquals("v1".getBytes(UTF_8), read.value());
        } finally {
          CodeInjectionForTesting.remove("RaftServerImpl.appendEntries");
        }
        // Once the cut heals, reads and writes go on.
        EmbeddedClusterIT.waitUntil(
            () -> cluster.leader().isPresent(), Duration.ofSeconds(30), "a leader");
        onOld.put("rir/k", "v2".getBytes(UTF_8), null);
        assertArrayEquals("v2".getBytes(UTF_8), onOld.get("rir/k").value());
      }
    }
  }
}
