package io.libkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.libkv.raft.EmbeddedCluster;
import io.libkv.raft.EmbeddedNode;
import io.libkv.store.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./libkv member}, {@code leader} and {@code status} against a live 3-member embedded
 * cluster in this JVM, reached as a client; text and {@code --json}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClusterCommandIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir static Path clusterDir;
  static EmbeddedCluster cluster;

  @BeforeAll
  static void startCluster() {
    cluster = EmbeddedCluster.builder().nodes(3).baseDir(clusterDir).start();
    cluster.awaitLeader(WAIT);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static String[] cmd(String... args) {
    return KvCli.args(
        List.of(args), "--endpoints", String.join(",", cluster.endpoints()), "--timeout", "20s");
  }

  private static List<JsonNode> membersJson() {
    return KvCli.run(cmd("member", "list", "--json")).expect(0).json();
  }

  private static JsonNode byId(List<JsonNode> members, String id) {
    return members.stream()
        .filter(m -> m.get("id").asText().equals(id))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + id + " in " + members));
  }

  @Test
  void statusAndMemberListPrintEveryMember() {
    KvCli.await(
        "three members, one leader, all ready",
        WAIT,
        () -> {
          List<JsonNode> ms = KvCli.run(cmd("status", "--json")).expect(0).json();
          return ms.size() == 3
              && ms.stream().filter(m -> m.get("role").asText().equals("leader")).count() == 1
              && ms.stream().allMatch(m -> m.get("ready").asBoolean());
        });
    KvCli.Result status = KvCli.run(cmd("status")).expect(0);
    String[] lines = status.out().split("\\R");
    assertEquals(4, lines.length, status.out());
    assertTrue(lines[0].startsWith("ID") && lines[0].contains("DISK FREE"), lines[0]);
    for (String id : List.of("n1", "n2", "n3")) {
      assertTrue(status.out().contains("\n" + id + " "), status.out());
    }
    assertTrue(status.out().contains("leader") && status.out().contains("ready"), status.out());

    KvCli.Result list = KvCli.run(cmd("member", "list")).expect(0);
    assertTrue(list.out().startsWith("ID"), list.out());
    assertEquals(4, list.out().split("\\R").length, list.out());
    List<JsonNode> json = membersJson();
    assertEquals(List.of("n1", "n2", "n3"), json.stream().map(m -> m.get("id").asText()).toList());
    for (JsonNode m : json) {
      assertTrue(m.get("diskFreeBytes").asLong() > 0, m.toString());
      assertEquals(cluster.node(m.get("id").asText()).endpoint(), m.get("endpoint").asText());
    }
  }

  @Test
  void addsALearnerPromotesAndRemovesIt() {
    String n9 = "n9=127.0.0.1:" + KvCli.closedPort();
    List<String> peers = new ArrayList<>(cluster.endpoints());
    peers.add(n9);
    try (EmbeddedNode joined =
        EmbeddedNode.join(
            peers,
            Config.builder()
                .nodeId("n9")
                .dataDir(clusterDir.resolve("n9"))
                .option("embedded.electionTimeoutMs", "300")
                .option("embedded.joinAs", "learner")
                .build())) {
      KvCli.Result add = KvCli.run(cmd("member", "add", "--learner", n9)).expect(0);
      assertEquals("OK", add.out().strip());
      KvCli.await(
          "n9 listed as a learner",
          WAIT,
          () -> {
            List<JsonNode> ms = membersJson();
            return ms.size() == 4 && byId(ms, "n9").get("role").asText().equals("learner");
          });
      assertTrue(joined.status().role().name().equals("LEARNER"), joined.status().toString());

      List<JsonNode> promoted =
          KvCli.run(cmd("member", "promote", "n9", "--json")).expect(0).json();
      assertEquals("promote", promoted.get(0).get("op").asText());
      KvCli.await(
          "n9 a voting member",
          WAIT,
          () -> byId(membersJson(), "n9").get("role").asText().equals("follower"));

      KvCli.run(cmd("member", "remove", "n9")).expect(0);
      assertEquals(3, membersJson().size());
    }
  }

  @Test
  void transfersTheLeadership() {
    EmbeddedNode leader = cluster.awaitLeader(WAIT);
    String target =
        cluster.runningIds().stream()
            .filter(id -> !id.equals(leader.id()))
            .findFirst()
            .orElseThrow();
    KvCli.run(cmd("leader", "transfer", target)).expect(0);
    KvCli.await("the new leader leads", WAIT, () -> cluster.node(target).isLeader());
    assertEquals("leader", byId(membersJson(), target).get("role").asText());
  }

  @Test
  void badRequestsAndAnUnreachableClusterHaveTheirStatus() {
    KvCli.Result unknown = KvCli.run(cmd("member", "remove", "nope")).expect(KvStatus.USAGE);
    assertTrue(unknown.err().contains("no member nope"), unknown.err());
    KvCli.run(cmd("leader", "transfer", "nope")).expect(KvStatus.USAGE);
    KvCli.run(cmd("member", "add", "not-an-endpoint")).expect(KvStatus.USAGE);
    KvCli.run("member", "list").expect(KvStatus.USAGE);
    KvCli.Result absent =
        KvCli.run("status", "--endpoints", "n1=127.0.0.1:" + KvCli.closedPort(), "--timeout", "2s")
            .expect(KvStatus.UNREACHABLE);
    assertTrue(absent.err().startsWith("libkv status: "), absent.err());
  }
}
