package io.libkv.bench;

import io.libkv.bench.jmh.BenchDirs;
import io.libkv.store.Backend;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * An etcd cluster of {@code members} servers from the {@code etcd} binary on the PATH, each on two
 * free loopback ports with its own data directory; measured through the libkv etcd adapter and
 * through raw jetcd.
 */
final class EtcdDeployment implements Deployment {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Path dir;
  private final List<ChildProcess> servers = new ArrayList<>();
  private final List<Integer> clientPorts = new ArrayList<>();
  private final boolean rawBaseline;
  private final String version;

  private EtcdDeployment(Path dir, boolean rawBaseline, String version) {
    this.dir = dir;
    this.rawBaseline = rawBaseline;
    this.version = version;
  }

  static EtcdDeployment start(Path baseDir, int members, boolean rawBaseline) {
    Path dir = tempDir(baseDir, "etcd");
    EtcdDeployment d = new EtcdDeployment(dir, rawBaseline, version());
    try {
      List<Integer> ports = Net.freePorts(2 * members);
      StringBuilder cluster = new StringBuilder();
      for (int i = 0; i < members; i++) {
        if (i > 0) {
          cluster.append(',');
        }
        cluster.append("e").append(i + 1).append("=http://127.0.0.1:").append(ports.get(2 * i + 1));
      }
      for (int i = 0; i < members; i++) {
        int client = ports.get(2 * i);
        int peer = ports.get(2 * i + 1);
        String name = "e" + (i + 1);
        String clientUrl = "http://127.0.0.1:" + client;
        String peerUrl = "http://127.0.0.1:" + peer;
        List<String> cmd =
            List.of(
                "etcd",
                "--name",
                name,
                "--data-dir",
                dir.resolve(name).toString(),
                "--listen-client-urls",
                clientUrl,
                "--advertise-client-urls",
                clientUrl,
                "--listen-peer-urls",
                peerUrl,
                "--initial-advertise-peer-urls",
                peerUrl,
                "--initial-cluster",
                cluster.toString(),
                "--initial-cluster-state",
                "new",
                "--initial-cluster-token",
                "libkv-bench-" + dir.getFileName(),
                "--logger",
                "zap",
                "--log-level",
                "warn");
        d.servers.add(ChildProcess.start("etcd " + name, cmd, dir, dir.resolve(name + ".log")));
        d.clientPorts.add(client);
      }
      d.awaitHealthy();
      return d;
    } catch (RuntimeException e) {
      d.close();
      throw e;
    }
  }

  private static String version() {
    try {
      Process p = new ProcessBuilder("etcd", "--version").redirectErrorStream(true).start();
      String out =
          new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      p.waitFor();
      for (String line : out.split("\n")) {
        if (line.startsWith("etcd Version:")) {
          return line.substring("etcd Version:".length()).trim();
        }
      }
      return "unknown";
    } catch (IOException e) {
      throw new BenchException(
          "the etcd binary is not on the PATH (Debian: apt-get install" + " etcd-server)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted while asking etcd for its version", e);
    }
  }

  private void awaitHealthy() {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    for (int i = 0; i < clientPorts.size(); i++) {
      while (true) {
        servers.get(i).checkAlive();
        if (healthy(http, clientPorts.get(i))) {
          break;
        }
        if (System.nanoTime() > deadline) {
          throw new BenchException(
              "etcd member "
                  + (i + 1)
                  + " not healthy after "
                  + START_TIMEOUT
                  + ":\n"
                  + servers.get(i).tail());
        }
        pause();
      }
    }
  }

  private static boolean healthy(HttpClient http, int port) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 && r.body().contains("\"health\":\"true\"");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted while waiting for etcd", e);
    }
  }

  static void pause() {
    try {
      Thread.sleep(100); // polling period while a server starts
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted while waiting for a server to start", e);
    }
  }

  static Path tempDir(Path baseDir, String prefix) {
    try {
      Files.createDirectories(baseDir);
      return Files.createTempDirectory(baseDir, "libkv-bench-" + prefix + "-");
    } catch (IOException e) {
      throw new BenchException("cannot create a data directory under " + baseDir, e);
    }
  }

  List<String> endpoints() {
    return clientPorts.stream().map(p -> Net.HOST + ":" + p).toList();
  }

  @Override
  public String name() {
    return "etcd";
  }

  @Override
  public String description() {
    return "etcd "
        + version
        + ", "
        + servers.size()
        + " member(s) as child processes on loopback, default durability (fdatasync per commit),"
        + " data in "
        + dir
        + (rawBaseline
            ? "; etcd-raw is the same workload through jetcd directly (linearizable gets, CAS as"
                + " a txn on mod_revision)"
            : "");
  }

  @Override
  public List<Target> openTargets(int connections) {
    StoreTarget store = StoreTarget.open("etcd", Backend.ETCD, endpoints(), connections);
    if (!rawBaseline) {
      return List.of(store);
    }
    try {
      List<String> urls = clientPorts.stream().map(p -> "http://" + Net.HOST + ":" + p).toList();
      return List.of(store, new JetcdTarget("etcd-raw", urls, connections));
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
  }

  @Override
  public Path dataDir() {
    return dir;
  }

  @Override
  public List<Long> serverPids() {
    return servers.stream().map(ChildProcess::pid).toList();
  }

  @Override
  public void close() {
    for (ChildProcess p : servers) {
      p.close();
    }
    BenchDirs.deleteOrWarn(dir);
  }
}
