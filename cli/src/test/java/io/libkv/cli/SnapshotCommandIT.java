package io.libkv.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.libkv.raft.EmbeddedCluster;
import io.libkv.store.KVPair;
import io.libkv.store.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./libkv snapshot save} from a live 3-member cluster, {@code restore} into three new
 * members' directories, and the new cluster serving the data with its indexes; a truncated file is
 * refused with status 1 and nothing written.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SnapshotCommandIT {
  @TempDir Path dir;

  @Test
  void saveThenRestoreIntoANewClusterAndRefuseATruncatedFile() throws Exception {
    Path file = dir.resolve("backup.snap");
    KVPair written;
    try (EmbeddedCluster old =
        EmbeddedCluster.builder().nodes(3).baseDir(dir.resolve("old")).start()) {
      old.awaitLeader(Duration.ofSeconds(60));
      try (Store s = old.openStore()) {
        s.put("app/config", "v1".getBytes(UTF_8), null);
        written = s.get("app/config");
      }
      KvCli.Result saved =
          KvCli.run(
                  "snapshot",
                  "save",
                  file.toString(),
                  "--endpoints",
                  String.join(",", old.endpoints()),
                  "--json")
              .expect(0);
      JsonNode j = saved.json().get(0);
      assertEquals(file.toString(), j.get("saved").asText());
      assertTrue(j.get("index").asLong() > 0, saved.out());
      assertEquals(Files.size(file), j.get("bytes").asLong());
    }

    for (String id : List.of("n1", "n2", "n3")) {
      KvCli.Result r =
          KvCli.run(
                  "snapshot",
                  "restore",
                  file.toString(),
                  "--data-dir",
                  dir.resolve("new/" + id).toString())
              .expect(0);
      assertTrue(r.out().startsWith("restored "), r.out());
    }
    try (EmbeddedCluster fresh =
            EmbeddedCluster.builder().nodes(3).baseDir(dir.resolve("new")).start();
        Store s = fresh.openStore()) {
      KVPair back = s.get("app/config");
      assertEquals("v1", new String(back.value(), UTF_8));
      assertEquals(written.lastIndex(), back.lastIndex());
    }

    Path cut = dir.resolve("cut.snap");
    byte[] all = Files.readAllBytes(file);
    Files.write(cut, Arrays.copyOf(all, all.length / 2));
    Path target = dir.resolve("never");
    KvCli.Result refused =
        KvCli.run("snapshot", "restore", cut.toString(), "--data-dir", target.toString()).expect(1);
    assertTrue(refused.err().contains("truncated"), refused.err());
    assertFalse(Files.exists(target));
  }
}
