package io.libkv.bench;

import io.libkv.bench.jmh.BenchDirs;
import io.libkv.store.Backend;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A ZooKeeper ensemble of {@code members} servers, each a child JVM running {@code QuorumPeerMain}
 * from the zookeeper jar on this class path, with its own data directory and loopback ports
 * (default durability: the transaction log is forced to disk).
 */
final class ZkDeployment implements Deployment {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  private final Path dir;
  private final List<ChildProcess> servers = new ArrayList<>();
  private final List<Integer> clientPorts = new ArrayList<>();

  private ZkDeployment(Path dir) {
    this.dir = dir;
  }

  static ZkDeployment start(Path baseDir, int members) {
    Path dir = EtcdDeployment.tempDir(baseDir, "zk");
    ZkDeployment d = new ZkDeployment(dir);
    try {
      List<Integer> ports = Net.freePorts(3 * members);
      for (int i = 0; i < members; i++) {
        int id = i + 1;
        Path data = Files.createDirectories(dir.resolve("zk" + id));
        Files.writeString(data.resolve("myid"), Integer.toString(id));
        StringBuilder cfg = new StringBuilder();
        cfg.append("tickTime=500\ninitLimit=20\nsyncLimit=10\n");
        cfg.append("dataDir=").append(data.toAbsolutePath()).append('\n');
        cfg.append("clientPort=").append(ports.get(3 * i)).append('\n');
        cfg.append("clientPortAddress=127.0.0.1\n");
        cfg.append("maxClientCnxns=0\n");
        cfg.append("minSessionTimeout=1000\nmaxSessionTimeout=60000\n");
        cfg.append("admin.enableServer=false\n");
        cfg.append("4lw.commands.whitelist=srvr,ruok\n");
        if (members > 1) {
          for (int j = 0; j < members; j++) {
            cfg.append("server.")
                .append(j + 1)
                .append("=127.0.0.1:")
                .append(ports.get(3 * j + 1))
                .append(':')
                .append(ports.get(3 * j + 2))
                .append('\n');
          }
        }
        Path cfgFile = dir.resolve("zoo" + id + ".cfg");
        Files.writeString(cfgFile, cfg.toString());
        List<String> cmd =
            new ArrayList<>(
                ChildProcess.javaCommand(
                    "256m",
                    List.of(
                        "-XX:+UseSerialGC",
                        // What the libkv ZooKeeper adapter documents for servers: TTL znodes,
                        // a prompt container check, packets above the 1 MiB value limit.
                        "-Dzookeeper.extendedTypesEnabled=true",
                        "-Dznode.container.checkIntervalMs=1000",
                        "-Djute.maxbuffer=4194304",
                        "-Dzookeeper.admin.enableServer=false",
                        "-Dzookeeper.jmx.log4j.disable=true"),
                    "org.apache.zookeeper.server.quorum.QuorumPeerMain"));
        cmd.add(cfgFile.toString());
        d.servers.add(
            ChildProcess.start("zookeeper " + id, cmd, dir, dir.resolve("zk" + id + ".log")));
        d.clientPorts.add(ports.get(3 * i));
      }
      d.awaitServing();
      return d;
    } catch (IOException e) {
      d.close();
      throw new BenchException("cannot prepare ZooKeeper in " + dir, e);
    } catch (RuntimeException e) {
      d.close();
      throw e;
    }
  }

  private void awaitServing() {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    for (int i = 0; i < clientPorts.size(); i++) {
      while (true) {
        servers.get(i).checkAlive();
        String mode = srvr(clientPorts.get(i));
        if (mode.contains("Mode: leader")
            || mode.contains("Mode: follower")
            || mode.contains("Mode: standalone")) {
          break;
        }
        if (System.nanoTime() > deadline) {
          throw new BenchException(
              "ZooKeeper server "
                  + (i + 1)
                  + " not serving after "
                  + START_TIMEOUT
                  + ":\n"
                  + servers.get(i).tail());
        }
        EtcdDeployment.pause();
      }
    }
  }

  /** Sends the {@code srvr} four-letter word; returns the answer, or "" if none. */
  private static String srvr(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(Net.HOST, port), 1000);
      s.setSoTimeout(2000);
      OutputStream out = s.getOutputStream();
      out.write("srvr".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public String name() {
    return "zk";
  }

  @Override
  public String description() {
    return "ZooKeeper "
        + zkVersion()
        + ", "
        + servers.size()
        + " server(s) as child JVMs (-Xmx256m) on loopback, forceSync=yes (default), TTL znodes"
        + " enabled, data in "
        + dir
        + "; client: the libkv ZooKeeper adapter (Curator)";
  }

  private static String zkVersion() {
    try {
      Package p = Class.forName("org.apache.zookeeper.Version").getPackage();
      String v = p == null ? null : p.getImplementationVersion();
      return v == null ? "(version unknown)" : v;
    } catch (ClassNotFoundException e) {
      return "(zookeeper jar missing)";
    }
  }

  @Override
  public List<Target> openTargets(int connections) {
    List<String> eps = clientPorts.stream().map(p -> Net.HOST + ":" + p).toList();
    return List.of(StoreTarget.open("zk", Backend.ZK, eps, connections));
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
