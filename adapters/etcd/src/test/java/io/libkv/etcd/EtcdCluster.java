package io.libkv.etcd;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Real etcd servers for the integration tests: {@code etcd} from the PATH (Debian's etcd-server),
 * on free 127.0.0.1 ports, with data under a temporary directory that {@link #close()} deletes.
 * Members can be stopped (killed) and started again on the same ports and data.
 */
final class EtcdCluster implements AutoCloseable {
  /** TLS material for the servers: PEM server certificate, key and the CA of client certs. */
  record Tls(Path certFile, Path keyFile, Path trustedCaFile) {}

  private final Path dir;
  private final List<Member> members = new ArrayList<>();
  private final Tls tls;

  private EtcdCluster(int size, Duration heartbeat, Tls tls) throws IOException {
    this.dir = Files.createTempDirectory("libkv-etcd-it");
    this.tls = tls;
    int[] ports = freePorts(2 * size);
    for (int i = 0; i < size; i++) {
      members.add(new Member("m" + i, ports[2 * i], ports[2 * i + 1], dir.resolve("m" + i)));
    }
    String initial =
        members.stream()
            .map(m -> m.name + "=http://127.0.0.1:" + m.peerPort)
            .collect(Collectors.joining(","));
    for (Member m : members) {
      m.command = command(m, initial, heartbeat);
    }
  }

  /** Starts {@code size} members and waits until they serve. */
  static EtcdCluster start(int size) throws IOException, InterruptedException {
    return start(size, Duration.ofMillis(size == 1 ? 50 : 100), null);
  }

  /** Starts {@code size} members with this heartbeat (election timeout 10 heartbeats) and TLS. */
  static EtcdCluster start(int size, Duration heartbeat, Tls tls)
      throws IOException, InterruptedException {
    EtcdCluster c = new EtcdCluster(size, heartbeat, tls);
    try {
      for (int i = 0; i < size; i++) {
        c.launch(i);
      }
      for (int i = 0; i < size; i++) {
        c.awaitServing(i, Duration.ofSeconds(60));
      }
      return c;
    } catch (IOException | InterruptedException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  int size() {
    return members.size();
  }

  /** The client endpoint of member {@code i}, as {@code 127.0.0.1:port}. */
  String endpoint(int i) {
    return "127.0.0.1:" + members.get(i).clientPort;
  }

  /** Every member's client endpoint. */
  List<String> endpoints() {
    return IntStream.range(0, size()).mapToObj(this::endpoint).toList();
  }

  boolean isRunning(int i) {
    Process p = members.get(i).process;
    return p != null && p.isAlive();
  }

  /** Kills member {@code i} (SIGKILL: no goodbye to clients or peers) and waits for its exit. */
  void kill(int i) throws InterruptedException {
    Member m = members.get(i);
    if (m.process != null) {
      m.process.destroyForcibly();
      if (!m.process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("etcd " + m.name + " did not exit");
      }
      m.process = null;
    }
  }

  /** Starts member {@code i} again (same ports, same data) and waits until it serves. */
  void restart(int i) throws IOException, InterruptedException {
    launch(i);
    awaitServing(i, Duration.ofSeconds(60));
  }

  /** The member that is the Raft leader now, from each running member's metrics; -1 if none. */
  int leader() {
    for (int i = 0; i < size(); i++) {
      if (!isRunning(i)) {
        continue;
      }
      try {
        String metrics = http(i, "/metrics");
        if (metrics.lines().anyMatch(l -> l.equals("etcd_server_is_leader 1"))) {
          return i;
        }
      } catch (IOException e) {
        // Not serving right now; try the others.
      }
    }
    return -1;
  }

  private void launch(int i) throws IOException {
    Member m = members.get(i);
    Files.createDirectories(m.dataDir);
    ProcessBuilder pb = new ProcessBuilder(m.command);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(m.log().toFile()));
    String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
    if (!List.of("amd64", "x86_64", "aarch64", "arm64").contains(arch)) {
      // etcd refuses to start on architectures it does not officially support unless told so.
      pb.environment().put("ETCD_UNSUPPORTED_ARCH", goArch(arch));
    }
    m.process = pb.start();
  }

  private void awaitServing(int i, Duration within) throws InterruptedException, IOException {
    Member m = members.get(i);
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      if (m.process == null || !m.process.isAlive()) {
        throw new IllegalStateException(
            "etcd " + m.name + " exited while starting; its log:\n" + tail(m.log()));
      }
      if (serving(i)) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "etcd " + m.name + " not serving after " + within + "; its log:\n" + tail(m.log()));
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
  }

  private boolean serving(int i) {
    if (tls != null) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", members.get(i).clientPort), 200);
        return true;
      } catch (IOException e) {
        return false;
      }
    }
    try {
      return http(i, "/health").contains("\"health\":\"true\"");
    } catch (IOException e) {
      return false;
    }
  }

  private String http(int i, String path) throws IOException {
    HttpURLConnection c =
        (HttpURLConnection)
            URI.create("http://127.0.0.1:" + members.get(i).clientPort + path)
                .toURL()
                .openConnection();
    c.setConnectTimeout(500);
    c.setReadTimeout(2000);
    try (InputStream in = c.getInputStream()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } finally {
      c.disconnect();
    }
  }

  private List<String> command(Member m, String initialCluster, Duration heartbeat) {
    String scheme = tls == null ? "http" : "https";
    String client = scheme + "://127.0.0.1:" + m.clientPort;
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "etcd",
                "--name",
                m.name,
                "--data-dir",
                m.dataDir.toString(),
                "--listen-client-urls",
                client,
                "--advertise-client-urls",
                client,
                "--listen-peer-urls",
                "http://127.0.0.1:" + m.peerPort,
                "--initial-advertise-peer-urls",
                "http://127.0.0.1:" + m.peerPort,
                "--initial-cluster",
                initialCluster,
                "--initial-cluster-state",
                "new",
                "--initial-cluster-token",
                "libkv-it-" + dir.getFileName(),
                "--heartbeat-interval",
                Long.toString(heartbeat.toMillis()),
                "--election-timeout",
                Long.toString(heartbeat.toMillis() * 10),
                "--logger",
                "zap",
                "--log-level",
                "warn"));
    if (tls != null) {
      cmd.addAll(
          List.of(
              "--cert-file",
              tls.certFile().toString(),
              "--key-file",
              tls.keyFile().toString(),
              "--client-cert-auth",
              "--trusted-ca-file",
              tls.trustedCaFile().toString()));
    }
    return cmd;
  }

  @Override
  public void close() {
    for (int i = 0; i < members.size(); i++) {
      try {
        kill(i);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** Distinct free ports: all are held open until every one is chosen. */
  private static int[] freePorts(int n) throws IOException {
    List<ServerSocket> held = new ArrayList<>();
    try {
      int[] ports = new int[n];
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket();
        held.add(s);
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress("127.0.0.1", 0));
        ports[i] = s.getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
  }

  private static String goArch(String javaArch) {
    switch (javaArch) {
      case "ppc64le":
        return "ppc64le";
      case "s390x":
        return "s390x";
      case "arm":
        return "arm";
      default:
        return javaArch;
    }
  }

  private static final class Member {
    final String name;
    final int clientPort;
    final int peerPort;
    final Path dataDir;
    List<String> command;
    Process process;

    Member(String name, int clientPort, int peerPort, Path dataDir) {
      this.name = name;
      this.clientPort = clientPort;
      this.peerPort = peerPort;
      this.dataDir = dataDir;
    }

    Path log() {
      return dataDir.resolveSibling(name + ".log");
    }
  }
}
