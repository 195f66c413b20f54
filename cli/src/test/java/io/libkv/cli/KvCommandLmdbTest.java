package io.libkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./libkv kv} on an LMDB store in a temporary directory, and its usage errors. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KvCommandLmdbTest extends KvCommandSuite {
  @TempDir static Path dataDir;

  @Override
  List<String> connection() {
    return List.of("--backend", "lmdb", "--data-dir", dataDir.toString());
  }

  @Test
  void connectionOptionsMayComeBeforeOrAfterTheSubcommand() {
    String k = root + "/k";
    KvCli.run("kv", "--backend", "lmdb", "--data-dir", dataDir.toString(), "put", k, "v").expect(0);
    KvCli.run("kv", "--backend", "LMDB", "get", k, "--data-dir", dataDir.toString()).expect(0);
    KvCli.Result r =
        KvCli.run("kv", "--json", "get", "--backend", "lmdb", "--data-dir", dataDir.toString(), k)
            .expect(0);
    assertEquals("v", r.json().get(0).get("value").asText());
  }

  @Test
  void badUsageExits2WithAMessage() {
    String dir = dataDir.toString();
    assertUsage("not a backend", "kv", "get", "--backend", "nope", "k");
    assertUsage(
        "has no server",
        "kv",
        "get",
        "--backend",
        "lmdb",
        "--data-dir",
        dir,
        "--endpoints",
        "x:1",
        "k");
    assertUsage("needs --data-dir", "kv", "get", "--backend", "lmdb", "k");
    assertUsage("needs --endpoints", "kv", "get", "--backend", "etcd", "k");
    assertUsage(
        "is for --backend lmdb",
        "kv",
        "get",
        "--backend",
        "zk",
        "--endpoints",
        "127.0.0.1:1",
        "--data-dir",
        dir,
        "k");
    assertUsage("bad duration 'soon'", "kv", "get", "--backend", "lmdb", "--timeout", "soon", "k");
    assertUsage(
        "go together",
        "kv",
        "get",
        "--backend",
        "etcd",
        "--endpoints",
        "127.0.0.1:1",
        "--tls-cert",
        dir + "/c.pem",
        "k");
    assertUsage("empty segment", "kv", "get", "--backend", "lmdb", "--data-dir", dir, "a//b");
    assertUsage(
        "Unknown LMDB option",
        "kv",
        "get",
        "--backend",
        "lmdb",
        "--data-dir",
        dir,
        "--option",
        "lmdb.nope=1",
        "k");
    assertUsage("Missing required", "kv", "put", "--backend", "lmdb", "--data-dir", dir, "k");
  }

  @Test
  void helpListsTheSubcommandsAndExitStatuses() {
    KvCli.Result help = KvCli.run("kv", "--help").expect(0);
    for (String s :
        List.of("get", "put", "del", "ls", "cas", "watch", "lock", "3  key not found", "5  the")) {
      assertTrue(help.out().contains(s), s + " missing from:\n" + help.out());
    }
  }

  private static void assertUsage(String message, String... args) {
    KvCli.Result r = KvCli.run(args).expect(KvStatus.USAGE);
    assertTrue(r.err().contains(message), "expected '" + message + "' in:\n" + r.err());
  }
}
