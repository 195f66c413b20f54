package io.libkv.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code ./libkv kv} exits 5 when its backend's servers cannot be reached: each client backend
 * pointed at a 127.0.0.1 port where nothing listens, with a short {@code --timeout}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KvUnreachableIT {

  @ParameterizedTest
  @ValueSource(strings = {"etcd", "zk", "consul", "embedded"})
  void aBackendThatDoesNotAnswerExits5WithinTheTimeout(String backend) {
    int port = KvCli.closedPort();
    String endpoint = (backend.equals("embedded") ? "n1=" : "") + "127.0.0.1:" + port;
    long t0 = System.nanoTime();
    KvCli.Result r =
        KvCli.run(
                "kv",
                "get",
                "--backend",
                backend,
                "--endpoints",
                endpoint,
                "--timeout",
                "2s",
                "some/key")
            .expect(KvStatus.UNREACHABLE);
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    assertTrue(r.err().contains("127.0.0.1:" + port), r.err());
    assertTrue(took.compareTo(Duration.ofSeconds(60)) < 0, "took " + took);
  }
}
