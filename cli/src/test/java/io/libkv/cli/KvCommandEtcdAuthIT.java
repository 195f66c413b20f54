package io.libkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --username} and {@code --password} reach the backend: a real etcd with authentication
 * switched on (by {@code etcdctl}, from Debian's etcd-client) serves the user that logs in and
 * refuses the others.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KvCommandEtcdAuthIT {
  @TempDir static Path etcdDir;
  static EtcdServer etcd;

  @BeforeAll
  static void startEtcdWithAuth() throws Exception {
    etcd = EtcdServer.start(etcdDir);
    etcdctl("user", "add", "root:root-secret");
    etcdctl("auth", "enable");
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.close();
    }
  }

  @Test
  void theUserThatLogsInIsServedOthersAreRefused() {
    run("put", "--username", "root", "--password", "root-secret", "app/k", "v").expect(0);
    assertEquals(
        "v\n", run("get", "--username", "root", "--password", "root-secret", "app/k").out());

    KvCli.Result anonymous = run("get", "app/k");
    assertEquals(KvStatus.ERROR, anonymous.status(), anonymous.err());

    KvCli.Result wrong = run("get", "--username", "root", "--password", "nope", "app/k");
    assertEquals(KvStatus.ERROR, wrong.status(), wrong.err());
    assertTrue(wrong.err().contains("authentication failed"), wrong.err());
  }

  /** {@code ./libkv kv SUB --backend etcd --endpoints ... REST...}. */
  private static KvCli.Result run(String sub, String... rest) {
    List<String> args =
        new ArrayList<>(List.of("kv", sub, "--backend", "etcd", "--endpoints", etcd.endpoint()));
    args.addAll(List.of(rest));
    return KvCli.run(args.toArray(String[]::new));
  }

  private static void etcdctl(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints=" + etcd.endpoint()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("ETCDCTL_API", "3");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "etcdctl " + cmd + " did not exit");
    assertEquals(0, p.exitValue(), "etcdctl " + cmd + ":\n" + out);
  }
}
