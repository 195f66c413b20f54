package io.libkv.jepsen;

import io.libkv.LibKV;
import io.libkv.raft.EmbeddedNode;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.HeldLock;
import io.libkv.store.KVPair;
import io.libkv.store.KeyExistsException;
import io.libkv.store.KeyModifiedException;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.Store;
import io.libkv.store.Watch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One node of the cluster under test, as its own JVM process: opens a store of the given backend
 * (for EMBEDDED a member with this node's id and data directory, measuring leases with an {@link
 * AdjustableClock}) and serves the harness's operations on a loopback control port, one line per
 * request and per answer (see {@link NodeClient} for the commands).
 *
 * <p>Usage: {@code NodeMain --backend EMBEDDED --id n1 --endpoints n1=n1:7001,n2=... --data DIR
 * --control-port P [--join true] [--option name=value]...} ({@code --join true}: a new member that
 * waits to be added to the configuration). Prints {@code READY} when the control port serves.
 */
final class NodeMain {
  private final Store store;
  private final EmbeddedNode member;
  private final AdjustableClock clock;
  private final Map<Long, Locker> locks = new ConcurrentHashMap<>();
  private final Map<Long, List<String>> watchLogs = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();

  private NodeMain(Store store, EmbeddedNode member, AdjustableClock clock) {
    this.store = store;
    this.member = member;
    this.clock = clock;
  }

  public static void main(String[] args) throws IOException {
    long processStartMs =
        ProcessHandle.current()
            .info()
            .startInstant()
            .map(java.time.Instant::toEpochMilli)
            .orElse(System.currentTimeMillis());
    long mainMs = System.currentTimeMillis() - processStartMs;
    if (args.length == 2 && "--warmup".equals(args[0])) {
      warmUp(Path.of(args[1]));
      return;
    }
    Map<String, String> a = new TreeMap<>();
    Config.Builder cb = Config.builder().connectionTimeout(Duration.ofSeconds(5));
    for (int i = 0; i + 1 < args.length; i += 2) {
      if ("--option".equals(args[i])) {
        String[] kv = args[i + 1].split("=", 2);
        cb.option(kv[0], kv[1]);
      } else {
        a.put(args[i], args[i + 1]);
      }
    }
    Backend backend = Backend.valueOf(a.getOrDefault("--backend", "EMBEDDED"));
    AdjustableClock clock = new AdjustableClock();
    cb.clock(clock);
    if (backend != Backend.ETCD) {
      cb.dataDir(Path.of(require(a, "--data")));
    }
    List<String> endpoints = List.of();
    if (backend == Backend.EMBEDDED) {
      cb.nodeId(require(a, "--id"));
    }
    if (a.containsKey("--endpoints")) {
      endpoints = Arrays.asList(a.get("--endpoints").split(","));
    }
    int port = Integer.parseInt(require(a, "--control-port"));
    EmbeddedNode member = null;
    Store store;
    if (backend == Backend.EMBEDDED) {
      // A joiner starts with no peers and takes part once a member adds it (MEMBERS).
      member =
          Boolean.parseBoolean(a.getOrDefault("--join", "false"))
              ? EmbeddedNode.join(endpoints, cb.build())
              : EmbeddedNode.start(endpoints, cb.build());
      store = member.openStore();
    } else {
      store = LibKV.newStore(backend, endpoints, cb.build());
    }
    long storeMs = System.currentTimeMillis() - processStartMs;
    NodeMain node = new NodeMain(store, member, clock);
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port));
    PrintStream out = System.out;
    out.println("READY " + port);
    // Where a start's time goes: JVM start to main, the store (Raft log recovered, server
    // listening), the control port. The harness adds the time to the first successful operation.
    out.printf(
        java.util.Locale.ROOT,
        "STARTUP %s: main at %d ms, store open at %d ms, control port at %d ms after process start%n",
        a.getOrDefault("--id", "node"),
        mainMs,
        storeMs,
        System.currentTimeMillis() - processStartMs);
    out.flush();
    while (true) {
      Socket s = server.accept();
      Thread t = new Thread(() -> node.serve(s), "control-" + s.getPort());
      t.setDaemon(true);
      t.start();
    }
  }

  /**
   * The class-loading warm-up behind the nodes' class data sharing archive (see {@link Cluster}):
   * runs a 1-member embedded cluster in this process through the calls the harness makes (writes,
   * reads, CAS, list, watch, lock), then exits; the JVM that runs this with {@code
   * -XX:ArchiveClassesAtExit} writes every class it loaded into the archive, so node processes
   * started with it skip most of their class loading and verification.
   */
  private static void warmUp(Path dir) {
    Thread watchdog =
        new Thread(
            () -> {
              try {
                Thread.sleep(120_000);
              } catch (InterruptedException e) {
                return;
              }
              System.err.println("warm-up did not finish in 120 s");
              Runtime.getRuntime().halt(2); // no archive: nodes start without one
            },
            "warmup-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    try (io.libkv.raft.EmbeddedCluster c =
        io.libkv.raft.EmbeddedCluster.builder()
            .nodes(1)
            .baseDir(dir)
            .config(Config.builder().clock(new AdjustableClock()).build())
            .start()) {
      c.awaitLeader(Duration.ofSeconds(60));
      try (Store s = c.openStore()) {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
          try {
            s.put("warm/a", "1".getBytes(StandardCharsets.UTF_8), null);
            break;
          } catch (RuntimeException e) {
            if (System.nanoTime() > deadline) {
              throw e;
            }
          }
        }
        KVPair p = s.get("warm/a");
        s.atomicPut("warm/a", "2".getBytes(StandardCharsets.UTF_8), p, null);
        s.list("warm");
        try (Watch<KVPair> w = s.watch("warm/a", 0)) {
          w.take();
        }
        Locker l = s.newLock("warm/lock", LockOptions.builder().ttl(Duration.ofSeconds(5)).build());
        l.lock(Duration.ofSeconds(10));
        l.unlock();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.exit(1);
    }
    System.out.println("WARM");
    System.exit(0);
  }

  /**
   * Follows a key like a careful client: when the watch breaks (its connection to the cluster is
   * gone), it logs the error and resumes after the last index it saw, so nothing is skipped.
   */
  private void watchLoop(String key, long from, List<String> log) {
    long last = from;
    while (true) {
      try (Watch<KVPair> w = store.watch(key, last)) {
        System.err.println("watch of " + key + " open after index " + last);
        while (true) {
          KVPair p = w.take();
          synchronized (log) {
            log.add(p.lastIndex() + ":" + p.valueAsString());
          }
          last = p.lastIndex();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (io.libkv.store.HistoryCompactedException e) {
        // The store's bounded revision history no longer reaches back to where this watch
        // resumes (a restarted member, or more than the history's worth of changes): the changes
        // up to the floor cannot be replayed. Noted, so the check skips them; resumed after it.
        synchronized (log) {
          log.add("RESYNC:" + (e.oldestAvailable() - 1));
        }
        last = Math.max(last, e.oldestAvailable() - 1);
      } catch (RuntimeException e) {
        synchronized (log) {
          log.add("ERROR:" + e.getClass().getSimpleName());
        }
        System.err.println("watch of " + key + " after " + last + " broke; resuming: " + e);
        try {
          Thread.sleep(200); // back off before resuming, as a client would
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private static String require(Map<String, String> a, String name) {
    String v = a.get(name);
    if (v == null) {
      throw new IllegalArgumentException("NodeMain needs " + name);
    }
    return v;
  }

  private void serve(Socket s) {
    try (s;
        BufferedReader in =
            new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        Writer out = new OutputStreamWriter(s.getOutputStream(), StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        String reply;
        try {
          reply = handle(line.split(" "));
        } catch (KeyNotFoundException e) {
          reply = "NOTFOUND";
        } catch (KeyModifiedException | KeyExistsException e) {
          reply = "CONFLICT " + oneLine(e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (RuntimeException e) {
          reply = "ERR " + e.getClass().getSimpleName() + " " + oneLine(e);
        }
        out.write(reply + "\n");
        out.flush();
      }
    } catch (IOException e) {
      // The harness dropped the connection (it timed out): the operation's fate is its concern.
    }
  }

  private static String oneLine(Throwable e) {
    return String.valueOf(e.getMessage()).replace('\n', ' ');
  }

  private String handle(String[] c) throws InterruptedException {
    switch (c[0]) {
      case "PING":
        return "OK";
      case "NANOTIME":
        return "OK " + System.nanoTime();
      case "ROLE":
        return member != null && member.isLeader() ? "OK leader" : "OK follower";
      case "GET":
        {
          KVPair p = store.get(c[1]);
          return "OK " + p.valueAsString() + " " + p.lastIndex();
        }
      case "PUT":
        store.put(c[1], c[2].getBytes(StandardCharsets.UTF_8), null);
        return "OK";
      case "CAS":
        {
          long prev = Long.parseLong(c[3]);
          KVPair previous = prev == 0 ? null : new KVPair(c[1], new byte[0], prev);
          KVPair p = store.atomicPut(c[1], c[2].getBytes(StandardCharsets.UTF_8), previous, null);
          return "OK " + p.lastIndex();
        }
      case "LIST":
        {
          StringBuilder sb = new StringBuilder("OK");
          for (KVPair p : store.list(c[1])) {
            sb.append(' ').append(p.key());
          }
          return sb.toString();
        }
      case "LOCK":
        {
          Locker l =
              store.newLock(
                  c[1], LockOptions.builder().ttl(Duration.ofMillis(Long.parseLong(c[2]))).build());
          HeldLock h = l.lock(Duration.ofMillis(Long.parseLong(c[3])));
          long id = ids.incrementAndGet();
          locks.put(id, l);
          return "OK " + h.fencingToken() + " " + id;
        }
      case "UNLOCK":
        {
          Locker l = locks.remove(Long.parseLong(c[1]));
          if (l != null) {
            l.unlock();
          }
          return "OK";
        }
      case "WATCH":
        {
          long id = ids.incrementAndGet();
          List<String> log = new ArrayList<>();
          watchLogs.put(id, log);
          String key = c[1];
          long from = Long.parseLong(c[2]);
          Thread t = new Thread(() -> watchLoop(key, from, log), "watch-" + id);
          t.setDaemon(true);
          t.start();
          return "OK " + id;
        }
      case "WATCHLOG":
        {
          List<String> log = watchLogs.get(Long.parseLong(c[1]));
          if (log == null) {
            return "ERR NoSuchWatch " + c[1];
          }
          synchronized (log) {
            return "OK" + (log.isEmpty() ? "" : " " + String.join(" ", log));
          }
        }
      case "MEMBERS":
        if (member == null) {
          return "ERR CallNotSupported membership changes need an EMBEDDED member";
        }
        member.setMembers(Arrays.asList(c[1].split(",")));
        return "OK";
      case "CLOCK":
        clock.adjust(Long.parseLong(c[1]) * 1_000_000L, Double.parseDouble(c[2]));
        return "OK";
      default:
        return "ERR BadCommand " + c[0];
    }
  }
}
