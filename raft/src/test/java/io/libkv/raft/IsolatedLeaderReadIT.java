package io.libkv.raft;

import static io.libkv.raft.EmbeddedClusterIT.waitUntil;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.libkv.store.KVPair;
import io.libkv.store.Store;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.util.CodeInjectionForTesting;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Probes the open question of raft/README (Semantics, Reads): a leader cut off from the others
 * answering linearizable reads from its frozen commit index before it steps down. Followers refuse
 * the old leader's AppendEntries (Ratis' injection point), elect a new leader among themselves,
 * which commits a write, while a reader on the old leader's store reads all along: no read begun
 * after the write was acknowledged may return the older value. Tagged slow: a probe of a timing
 * window (in the runs so far the old leader stepped down, 2 x the election timeout after its last
 * answer, before the followers elected a new one), not a proof.
 */
@Tag("slow")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class IsolatedLeaderReadIT {
  @TempDir Path dir;

  @Test
  void anIsolatedLeadersReadsAfterANewLeaderCommitted() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(3, dir)) {
      EmbeddedNode old = cluster.awaitLeader();
      List<String> others = new ArrayList<>(cluster.runningIds());
      others.remove(old.id());
      try (Store onOld = old.openStore();
          Store onOther = cluster.node(others.get(0)).openStore()) {
        onOld.put("iso/k", "v1".getBytes(UTF_8), null);
        for (int i = 0; i < 20; i++) {
          onOld.get("iso/k"); // heartbeat rounds acknowledge the commit index
        }
        String oldId = old.id();
        // A reader on the old leader's store, all along: start and end time and value per read.
        List<long[]> log = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicBoolean stop =
            new java.util.concurrent.atomic.AtomicBoolean();
        Thread reader =
            new Thread(
                () -> {
                  while (!stop.get()) {
                    long t0 = System.nanoTime();
                    try {
                      KVPair p = onOld.get("iso/k");
                      long v = new String(p.value(), UTF_8).equals("v1") ? 1 : 2;
                      log.add(new long[] {t0, System.nanoTime(), v});
                    } catch (RuntimeException e) {
                      log.add(new long[] {t0, System.nanoTime(), -1});
                    }
                  }
                });
        CodeInjectionForTesting.put(
            "RaftServerImpl.appendEntries",
            (local, remote, args) -> {
              if (String.valueOf(remote).equals(oldId)) {
                throw new RuntimeException(new IOException("isolated from " + oldId));
              }
              return false;
            });
        long isolated = System.nanoTime();
        try {
          reader.start();
          waitUntil(
              () -> others.stream().anyMatch(id -> cluster.node(id).isLeader()),
              Duration.ofSeconds(30),
              "a new leader among " + others);
          long elected = System.nanoTime();
          onOther.put("iso/k", "v2".getBytes(UTF_8), null);
          long acked = System.nanoTime();
          boolean oldStillLeads = old.isLeader();
          // Enough reads begun after the acknowledgement (answered or refused) to see the window.
          waitUntil(
              () -> {
                synchronized (log) {
                  return log.stream().filter(r -> r[0] > acked).count() >= 200;
                }
              },
              Duration.ofSeconds(60),
              "200 reads on the old leader's store after the acknowledgement");
          stop.set(true);
          reader.join();
          int after = 0;
          int stale = 0;
          long lastOk = 0;
          synchronized (log) {
            for (long[] r : log) {
              if (r[2] > 0) {
                lastOk = Math.max(lastOk, r[1]);
              }
              if (r[0] > acked && r[2] > 0) {
                after++;
                if (r[2] == 1) {
                  stale++;
                }
              }
            }
          }
          System.out.println(
              "isolated old leader "
                  + oldId
                  + ": "
                  + after
                  + " reads begun after v2 was acknowledged by the new leader answered, "
                  + stale
                  + " of them the stale v1; "
                  + log.size()
                  + " reads in all; new leader "
                  + (elected - isolated) / 1_000_000
                  + " ms after the isolation, v2 acknowledged at "
                  + (acked - isolated) / 1_000_000
                  + " ms, the old leader's last answered read ended at "
                  + (lastOk - isolated) / 1_000_000
                  + " ms; old still leading at the ack: "
                  + oldStillLeads);
          org.junit.jupiter.api.Assertions.assertEquals(
              0, stale, "reads begun after v2 was acknowledged that returned v1");
        } finally {
          CodeInjectionForTesting.remove("RaftServerImpl.appendEntries");
        }
      }
    }
  }
}
