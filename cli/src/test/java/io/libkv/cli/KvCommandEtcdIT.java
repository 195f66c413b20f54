package io.libkv.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./libkv kv} against a real etcd server on 127.0.0.1. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class KvCommandEtcdIT extends KvCommandSuite {
  @TempDir static Path etcdDir;
  static EtcdServer etcd;

  @BeforeAll
  static void startEtcd() throws Exception {
    etcd = EtcdServer.start(etcdDir);
  }

  @AfterAll
  static void stopEtcd() throws Exception {
    if (etcd != null) {
      etcd.close();
    }
  }

  @Override
  List<String> connection() {
    return List.of("--backend", "etcd", "--endpoints", etcd.endpoint());
  }
}
