package io.libkv.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.PermissionDeniedException;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.Watch;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Permissions by key prefix on a live 3-member TLS cluster: off until the first rule, then each
 * client certificate may do only what a rule grants it, refusals name the identity, the key and the
 * permission and change nothing, lists and watches show nothing the caller may not read, the admin
 * calls need the admin permission, and the rules are replicated and survive a restart.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class EmbeddedPermissionsIT {
  @TempDir static Path dir;
  private static TestPki ca;
  private static EmbeddedCluster cluster;

  @BeforeAll
  static void start() {
    ca = TestPki.newCa("libkv-cluster-ca", dir.resolve("pki"));
    cluster =
        EmbeddedCluster.builder()
            .nodes(3)
            .baseDir(dir.resolve("cluster"))
            .memberTls(id -> ca.issueMember(id, dir.resolve("member")))
            // a cold JVM's first TLS handshakes are slow on a small machine
            .config(Config.builder().option(RaftSettings.ELECTION_TIMEOUT_MS, "1000").build())
            .start();
    cluster.awaitLeader();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** Each test starts with permissions off and no data: a member's own handle is never checked. */
  @AfterEach
  void removeEveryRuleAndKey() {
    try (Store member = cluster.openStore(cluster.runningIds().get(0))) {
      member.deleteTree("app");
      member.deleteTree("other");
    }
    try (ClusterAdmin a = cluster.node(cluster.runningIds().get(0)).admin()) {
      for (AccessRule r : a.accessRules()) {
        a.revoke(r.identity(), r.keyPrefix(), r.permissions());
      }
      assertEquals(List.of(), a.accessRules());
    }
  }

  private static Config.TlsFiles cert(String name) {
    return ca.issue(name, dir.resolve("client-" + name));
  }

  private static Store client(String name) {
    return LibKV.newStore(
        Backend.EMBEDDED, cluster.endpoints(), Config.builder().tls(cert(name)).build());
  }

  private static ClusterAdmin admin(String name) {
    return ClusterAdmin.connect(
        cluster.endpoints(),
        Config.builder()
            .tls(cert(name))
            .connectionTimeout(Duration.ofSeconds(5))
            .option(RaftSettings.REQUEST_TIMEOUT_MS, "1000")
            .build());
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static void assertDenied(String identity, String key, String permission, Runnable call) {
    PermissionDeniedException e = assertThrows(PermissionDeniedException.class, call::run);
    assertEquals(identity, e.identity(), e.getMessage());
    assertEquals(key, e.key(), e.getMessage());
    assertEquals(permission, e.permission(), e.getMessage());
  }

  private static void grantAliceAndBob(ClusterAdmin root) {
    root.grant("root", "", Set.of(Permission.ADMIN));
    root.grant("alice", "app/", EnumSet.of(Permission.READ, Permission.WRITE));
    root.grant("bob", "app/public/", Set.of(Permission.READ));
  }

  @Test
  void offUntilTheFirstRuleThenEachCallNeedsARuleAndARefusalChangesNothing() {
    String leader = cluster.awaitLeader().id();
    String follower =
        cluster.runningIds().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    try (Store alice = client("alice");
        Store bob = client("bob");
        Store member = cluster.openStore(follower);
        ClusterAdmin root = admin("root")) {
      bob.put("other/b", b("1"), null);
      alice.put("app/a", b("1"), null);
      assertEquals(List.of(), root.accessRules());

      grantAliceAndBob(root);
      assertEquals(3, root.accessRules().size());

      alice.put("app/a", b("2"), null);
      alice.put("app/public/p", b("p"), null);
      assertDenied("bob", "app/a", "write", () -> bob.put("app/a", b("bob"), null));
      assertDenied("bob", "app/a", "read", () -> bob.get("app/a"));
      assertDenied("bob", "app/a", "write", () -> bob.delete("app/a"));
      assertArrayEquals(b("2"), alice.get("app/a").value(), "the refused write changed nothing");
      assertArrayEquals(b("p"), bob.get("app/public/p").value());
      assertDenied("alice", "other/b", "write", () -> alice.put("other/b", b("2"), null));
      assertDenied("alice", "other/b", "read", () -> alice.get("other/b"));
      assertArrayEquals(b("1"), member.get("other/b").value(), "a member's store is not checked");
      member.put("other/c", b("c"), null); // a follower's store sends its writes to the leader
      assertArrayEquals(b("c"), member.get("other/c").value());

      KVPair a = alice.get("app/a");
      KVPair swapped = alice.atomicPut("app/a", b("3"), a, null);
      assertTrue(alice.atomicDelete("app/a", swapped));
      assertEquals(List.of("app/public/p"), alice.list("app").stream().map(KVPair::key).toList());
      assertEquals(
          List.of("app/public/p"), bob.list("app/public").stream().map(KVPair::key).toList());
      assertDenied("bob", "app/", "read", () -> bob.list("app"));
      assertDenied("alice", "app", "write", () -> alice.deleteTree("app"));
      assertNotNull(member.get("app/public/p"));
    }
  }

  @Test
  void watchesOfWhatTheCallerMayNotReadAreRefusedAndTheOthersSeeOnlyTheirKeys() throws Exception {
    try (Store alice = client("alice");
        Store bob = client("bob");
        ClusterAdmin root = admin("root")) {
      grantAliceAndBob(root);
      try (Watch<List<KVPair>> tree = bob.watchTree("app/public");
          Watch<KVPair> key = bob.watch("app/public/w")) {
        assertEquals(List.of(), tree.poll(Duration.ofSeconds(10)));
        alice.put("app/secret", b("s"), null);
        alice.put("app/public/w", b("w"), null);
        List<KVPair> seen = tree.poll(Duration.ofSeconds(10));
        assertNotNull(seen, "bob's tree watch saw alice's write under app/public/");
        assertEquals(List.of("app/public/w"), seen.stream().map(KVPair::key).toList());
        KVPair w = key.poll(Duration.ofSeconds(10));
        assertNotNull(w);
        assertArrayEquals(b("w"), w.value());
      }
      assertWatchDenied(() -> bob.watch("app/secret"), "app/secret");
      assertWatchDenied(() -> bob.watchTree("app"), "app/");
    }
  }

  /** A watch of what the caller may not read fails when opened or at its first poll, naming it. */
  private static void assertWatchDenied(java.util.function.Supplier<Watch<?>> open, String key) {
    StoreException e =
        assertThrows(
            StoreException.class,
            () -> {
              try (Watch<?> w = open.get()) {
                w.poll(Duration.ofSeconds(10));
              }
            });
    assertTrue(
        chain(e).contains("permission denied: 'bob' has no read permission on key '" + key + "'"),
        chain(e));
  }

  private static String chain(Throwable t) {
    StringBuilder sb = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      sb.append(c).append(" / ");
    }
    return sb.toString();
  }

  @Test
  void administrationNeedsTheAdminPermissionOnceThereAreRules() {
    try (ClusterAdmin root = admin("root");
        ClusterAdmin alice = admin("alice")) {
      grantAliceAndBob(root);
      assertDenied("alice", "", "admin", alice::accessRules);
      assertDenied("alice", "", "admin", () -> alice.grant("alice", "", Set.of(Permission.ADMIN)));
      assertEquals(3, root.accessRules().size(), "the refused grant changed nothing");
      String leader = cluster.awaitLeader().id();
      String other =
          cluster.runningIds().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      PermissionDeniedException e =
          assertThrows(PermissionDeniedException.class, () -> alice.transferLeadership(other));
      assertEquals("alice", e.identity());
      assertEquals("admin", e.permission());
      assertEquals(3, alice.members().size(), "a member's status is not an admin call");
      Path backup = dir.resolve("alice.snap");
      assertDenied(
          "alice",
          "",
          "admin",
          () ->
              EmbeddedSnapshots.save(
                  cluster.endpoints(), Config.builder().tls(cert("alice")).build(), backup));
      assertTrue(!java.nio.file.Files.exists(backup), "no backup file was written");
      assertTrue(
          EmbeddedSnapshots.save(
                  cluster.endpoints(),
                  Config.builder().tls(cert("root")).build(),
                  dir.resolve("root.snap"))
              > 0);
      root.transferLeadership(other); // returns once other leads, else throws
    }
  }

  @Test
  void rulesAreReplicatedToEveryMemberAndSurviveARestart() throws Exception {
    try (ClusterAdmin root = admin("root")) {
      grantAliceAndBob(root);
    }
    String restarted = cluster.runningIds().get(2);
    cluster.stop(restarted);
    cluster.restart(restarted);
    for (String id : cluster.runningIds()) {
      EmbeddedClusterIT.waitUntil(
          () -> cluster.node(id).member().state.accessRules().rules().size() == 3,
          Duration.ofSeconds(30),
          "member " + id + " has the three rules");
    }
    try (Store bob = client("bob")) {
      assertDenied("bob", "app/a", "write", () -> bob.put("app/a", b("x"), null));
    }
  }
}
