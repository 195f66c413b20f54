package io.libkv.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.libkv.store.Config;
import io.libkv.store.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member whose {@code kv/} was torn by a power loss (simulated: garbage in its LMDB file and a
 * boot id from before a reboot) comes back with every write it had acknowledged, rebuilt from its
 * own synced snapshot and Raft log, not refused and not served from the torn copy.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class PowerLossRebuildIT {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  @Test
  void aTornKvAfterARebootIsRebuiltFromSnapshotAndLog() throws Exception {
    Config config = Config.builder().option(RaftSettings.SNAPSHOT_THRESHOLD, "20").build();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(3).baseDir(dir.resolve("c")).config(config).start()) {
      EmbeddedNode leader = cluster.awaitLeader();
      String victim =
          cluster.runningIds().stream()
              .filter(id -> !id.equals(leader.id()))
              .findFirst()
              .orElseThrow();
      try (Store s = cluster.openStore(victim)) {
        for (int i = 0; i < 50; i++) {
          s.put("p/" + i, b("v" + i), null); // acknowledged once the victim has applied it
        }
      }
      Path data = cluster.node(victim).dataDir();
      cluster.stop(victim);
      Files.writeString(
          data.resolve("kv").resolve("data.mdb"), "torn by a power loss\n".repeat(500));
      Files.writeString(data.resolve(BootGuard.FILE), "a-boot-before-the-power-loss\n");

      EmbeddedNode back = cluster.restart(victim);
      try (Store s = back.openStore()) {
        assertEquals(50, s.list("p").size());
        assertArrayEquals(b("v7"), s.get("p/7").value());
        assertArrayEquals(b("v49"), s.get("p/49").value());
        s.put("p/after", b("x"), null);
      }
      assertEquals(BootGuard.currentBoot(), Files.readString(data.resolve(BootGuard.FILE)).trim());
    }
  }
}
