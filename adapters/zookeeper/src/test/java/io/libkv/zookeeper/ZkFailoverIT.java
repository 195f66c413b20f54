package io.libkv.zookeeper;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.libkv.store.KVPair;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A three-server ensemble (Netty server and client) that loses its leader mid-test. */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ZkFailoverIT {
  private static final int WRITES = 60;
  private static final int KILL_AT = 20;

  @Test
  void leaderLossKeepsTheStoreWorkingAndLosesNoAcknowledgedWrite() throws Exception {
    try (TestingCluster cluster = ZkTestServers.ensemble(3)) {
      InstanceSpec leader = awaitLeader(cluster, null);
      try (Store store =
          ZkTestServers.open(
              cluster.getConnectString(), ZkTestServers.config(Duration.ofSeconds(20)).build())) {
        store.put("failover/watched", "before".getBytes(UTF_8), null);
        Watch<KVPair> watch = store.watch("failover/watched");
        assertNotNull(watch.poll(Duration.ofSeconds(10)));
        KVPair counter = store.atomicPut("failover/counter", "0".getBytes(UTF_8), null, null);

        Map<String, String> acked = new LinkedHashMap<>();
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < WRITES; i++) {
          if (i == KILL_AT) {
            assertTrue(cluster.killServer(leader), "killed the leader " + leader);
          }
          String k = "failover/k" + i;
          try {
            store.put(k, ("v" + i).getBytes(UTF_8), null);
            acked.put(k, "v" + i);
            counter = store.atomicPut("failover/counter", ("" + i).getBytes(UTF_8), counter, null);
          } catch (StoreException e) {
            failed.add(k + ": " + e);
            counter = store.get("failover/counter");
          }
        }
        // The retry loop rides over the election within the connection timeout.
        assertTrue(failed.size() <= 1, "writes failed during the failover: " + failed);

        InstanceSpec newLeader = awaitLeader(cluster, leader);
        assertNotEquals(leader, newLeader);
        store.put("failover/watched", "after".getBytes(UTF_8), null);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
          KVPair ev = watch.poll(Duration.ofSeconds(1));
          if (ev != null && "after".equals(ev.valueAsString())) {
            break;
          }
          if (System.nanoTime() > deadline) {
            fail("the watch did not see the write after the failover");
          }
        }

        String survivors =
            cluster.getInstances().stream()
                .filter(s -> !s.equals(leader))
                .map(s -> "127.0.0.1:" + s.getPort())
                .collect(Collectors.joining(","));
        try (Store check =
            ZkTestServers.open(survivors, ZkTestServers.config(Duration.ofSeconds(10)).build())) {
          for (Map.Entry<String, String> e : acked.entrySet()) {
            assertEquals(e.getValue(), check.get(e.getKey()).valueAsString(), e.getKey());
          }
          Map<String, String> listed =
              check.list("failover").stream()
                  .collect(Collectors.toMap(KVPair::key, KVPair::valueAsString));
          for (String k : acked.keySet()) {
            assertTrue(listed.containsKey(k), "listed " + k);
          }
          assertEquals(counter, check.get("failover/counter"), "the last acknowledged CAS");
        }
      }
    }
  }

  private static InstanceSpec awaitLeader(TestingCluster cluster, InstanceSpec not)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      for (InstanceSpec s : cluster.getInstances()) {
        if (!s.equals(not) && "leader".equals(ZkTestServers.mode(s))) {
          return s;
        }
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new AssertionError("no leader elected");
  }
}
