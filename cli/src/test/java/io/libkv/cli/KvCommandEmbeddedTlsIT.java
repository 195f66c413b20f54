package io.libkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.raft.EmbeddedCluster;
import io.libkv.store.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --tls-cert}, {@code --tls-key} and {@code --tls-ca} reach the store: a 3-member embedded
 * cluster with mutual TLS serves the command with a certificate of its CA, and refuses it without
 * one or with another CA's (status 5); {@code ./libkv access} sets the access rules, after which a
 * certificate without a rule for a key is refused (status 6).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class KvCommandEmbeddedTlsIT {

  @Test
  void theClusterServesAClientCertificateOfItsCaOnly(@TempDir Path dir) {
    TestCertificates ca = TestCertificates.newCa("kv-test-ca", dir.resolve("pki"));
    Config.TlsFiles client = ca.issue("cli", dir.resolve("pki"));
    Config.TlsFiles stranger =
        TestCertificates.newCa("other-ca", dir.resolve("other")).issue("cli", dir.resolve("other"));
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder()
            .nodes(3)
            .baseDir(dir.resolve("cluster"))
            .memberTls(id -> ca.issueMember(id, dir.resolve("pki")))
            .start()) {
      cluster.awaitLeader(Duration.ofSeconds(60));
      String endpoints = String.join(",", cluster.endpoints());

      run(endpoints, tls(client), "put", "secure/k", "v").expect(0);
      assertEquals("v\n", run(endpoints, tls(client), "get", "secure/k").expect(0).out());

      KvCli.Result plain = run(endpoints, List.of(), "get", "secure/k");
      assertEquals(KvStatus.UNREACHABLE, plain.status(), plain.err());
      KvCli.Result other = run(endpoints, tls(stranger), "get", "secure/k");
      assertEquals(KvStatus.UNREACHABLE, other.status(), other.err());
      assertTrue(other.err().contains("TLS"), other.err());

      // Access rules: off until the first; then a certificate does only what a rule grants.
      Config.TlsFiles guest = ca.issue("guest", dir.resolve("pki"));
      assertEquals(
          "no rules: permissions are off\n", access(endpoints, client, "list").expect(0).out());
      access(endpoints, client, "grant", "cli", "", "admin").expect(0);
      access(endpoints, client, "grant", "cli", "secure/", "read,write").expect(0);
      access(endpoints, client, "grant", "guest", "secure/pub/", "read").expect(0);
      String rules = access(endpoints, client, "list").expect(0).out();
      assertTrue(rules.contains("guest") && rules.contains("secure/pub/"), rules);
      run(endpoints, tls(client), "put", "secure/pub/x", "p").expect(0);
      assertEquals("p\n", run(endpoints, tls(guest), "get", "secure/pub/x").expect(0).out());
      KvCli.Result denied = run(endpoints, tls(guest), "put", "secure/k", "g");
      assertEquals(KvStatus.DENIED, denied.status(), denied.err());
      assertTrue(
          denied.err().contains("'guest' has no write permission on key 'secure/k'"), denied.err());
      assertEquals("v\n", run(endpoints, tls(client), "get", "secure/k").expect(0).out());
      KvCli.Result notAdmin = access(endpoints, guest, "list");
      assertEquals(KvStatus.DENIED, notAdmin.status(), notAdmin.err());
      KvCli.Result bad = access(endpoints, client, "grant", "guest", "", "fly");
      assertEquals(KvStatus.USAGE, bad.status(), bad.err());
      assertTrue(bad.err().contains("unknown permission 'fly'"), bad.err());
    }
  }

  private static KvCli.Result access(
      String endpoints, Config.TlsFiles files, String sub, String... rest) {
    List<String> args =
        new ArrayList<>(List.of("access", sub, "--endpoints", endpoints, "--timeout", "5s"));
    args.addAll(tls(files));
    args.addAll(List.of(rest));
    return KvCli.run(args.toArray(String[]::new));
  }

  private static List<String> tls(Config.TlsFiles files) {
    return List.of(
        "--tls-cert", files.certFile().toString(),
        "--tls-key", files.keyFile().toString(),
        "--tls-ca", files.caFile().toString());
  }

  private static KvCli.Result run(String endpoints, List<String> tls, String sub, String... rest) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "kv", sub, "--backend", "embedded", "--endpoints", endpoints, "--timeout", "5s"));
    args.addAll(tls);
    args.addAll(List.of(rest));
    return KvCli.run(args.toArray(String[]::new));
  }
}
