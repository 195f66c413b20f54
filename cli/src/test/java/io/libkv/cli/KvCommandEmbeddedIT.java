package io.libkv.cli;

import io.libkv.raft.EmbeddedCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./libkv kv} against a live 3-member embedded cluster in this JVM, reached as a client (the
 * members' endpoints; the command stores nothing locally).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class KvCommandEmbeddedIT extends KvCommandSuite {
  @TempDir static Path clusterDir;
  static EmbeddedCluster cluster;

  @BeforeAll
  static void startCluster() {
    cluster = EmbeddedCluster.builder().nodes(3).baseDir(clusterDir).start();
    cluster.awaitLeader(Duration.ofSeconds(60));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Override
  List<String> connection() {
    return List.of("--backend", "embedded", "--endpoints", String.join(",", cluster.endpoints()));
  }
}
