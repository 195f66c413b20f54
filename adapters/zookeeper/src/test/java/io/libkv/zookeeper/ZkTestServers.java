package io.libkv.zookeeper;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingServer;

/**
 * Real ZooKeeper 3.9 servers inside the test JVM (through curator-test, which runs ZooKeeper's own
 * server classes), on 127.0.0.1 and free ports, with the settings the adapter documents: TTL nodes
 * enabled, a 100 ms container check (so TTLs hold within ttl + 1 s), a jute.maxbuffer above the 1
 * MiB value limit, and a 500 ms tick (sessions of 1 to 60 s, so 2 s lock TTLs are allowed).
 */
final class ZkTestServers {
  static final String NETTY_FACTORY = "org.apache.zookeeper.server.NettyServerCnxnFactory";
  static final String NIO_FACTORY = "org.apache.zookeeper.server.NIOServerCnxnFactory";

  private ZkTestServers() {}

  static synchronized void configureJvm() {
    System.setProperty("zookeeper.extendedTypesEnabled", "true");
    System.setProperty("znode.container.checkIntervalMs", "100");
    System.setProperty("jute.maxbuffer", Integer.toString(4 << 20));
    System.setProperty("zookeeper.admin.enableServer", "false");
    System.setProperty("zookeeper.4lw.commands.whitelist", "srvr,ruok");
  }

  private static Map<String, Object> properties() {
    Map<String, Object> p = new HashMap<>();
    p.put("minSessionTimeout", "1000");
    p.put("maxSessionTimeout", "60000");
    p.put("4lw.commands.whitelist", "srvr,ruok");
    p.put("admin.enableServer", "false");
    return p;
  }

  static InstanceSpec spec(int serverId) {
    return spec(serverId, Map.of());
  }

  static InstanceSpec spec(int serverId, Map<String, Object> extra) {
    Map<String, Object> p = properties();
    p.putAll(extra);
    return new InstanceSpec(null, -1, -1, -1, true, serverId, 500, -1, p, "127.0.0.1");
  }

  /** Starts one standalone server with the given connection factory (Netty or NIO). */
  static TestingServer standalone(String factory) throws Exception {
    return standalone(factory, Map.of());
  }

  /** Starts one standalone server with extra zoo.cfg properties. */
  static TestingServer standalone(String factory, Map<String, Object> extra) throws Exception {
    configureJvm();
    System.setProperty("zookeeper.serverCnxnFactory", factory);
    return new TestingServer(spec(-1, extra), true);
  }

  /** Starts an ensemble of {@code n} servers on Netty. */
  static TestingCluster ensemble(int n) throws Exception {
    configureJvm();
    System.setProperty("zookeeper.serverCnxnFactory", NETTY_FACTORY);
    List<InstanceSpec> specs = new java.util.ArrayList<>();
    for (int i = 1; i <= n; i++) {
      specs.add(spec(i));
    }
    TestingCluster cluster = new TestingCluster(specs);
    cluster.start();
    return cluster;
  }

  /** The server's mode ({@code leader}, {@code follower}, {@code standalone}), or null if down. */
  static String mode(InstanceSpec spec) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", spec.getPort()), 1000);
      s.setSoTimeout(2000);
      OutputStream out = s.getOutputStream();
      out.write("srvr".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("Mode: ")) {
          return line.substring(6).trim();
        }
      }
      return null;
    } catch (java.io.IOException e) {
      return null;
    }
  }

  static Config.Builder config(Duration connectionTimeout) {
    return Config.builder().connectionTimeout(connectionTimeout);
  }

  static Store open(String connectString, Config config) {
    return LibKV.newStore(Backend.ZK, List.of(connectString.split(",")), config);
  }
}
