package io.libkv.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.libkv.raft.EmbeddedCluster;
import io.libkv.raft.EmbeddedNode;
import io.libkv.store.HeldLock;
import io.libkv.store.KVPair;
import io.libkv.store.KeyModifiedException;
import io.libkv.store.LockOptions;
import io.libkv.store.Locker;
import io.libkv.store.Store;
import io.libkv.store.Watch;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./libkv demo}: starts an embedded 3-node cluster in this process and shows the Store API
 * doing real work on it: puts and lists, a CAS counter raced by several clients, a watch, a lock
 * with fencing tokens, then the leader stopped and the cluster carrying on with nothing lost.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Run an embedded 3-node cluster in this process and put it to work.")
final class DemoCommand implements Callable<Integer> {

  @Option(
      names = "--data-dir",
      description =
          "Where the members keep their data (default: a temporary directory, removed after).")
  Path dataDir;

  @Option(
      names = "--nodes",
      defaultValue = "3",
      description = "Cluster size (default: ${DEFAULT-VALUE}).")
  int nodes;

  @Option(
      names = "--counter-clients",
      defaultValue = "4",
      description = "Clients racing on the CAS counter (default: ${DEFAULT-VALUE}).")
  int counterClients;

  @Option(
      names = "--increments",
      defaultValue = "25",
      description = "Increments per counter client (default: ${DEFAULT-VALUE}).")
  int increments;

  private final PrintStream out = System.out;

  @Override
  public Integer call() throws Exception {
    if (nodes < 3) {
      throw new IllegalArgumentException("--nodes must be at least 3 to survive a leader stop");
    }
    boolean temporary = dataDir == null;
    Path dir = temporary ? Files.createTempDirectory("libkv-demo-") : dataDir;
    long t0 = System.nanoTime();
    try (EmbeddedCluster cluster = EmbeddedCluster.start(nodes, dir)) {
      EmbeddedNode leader = cluster.awaitLeader(Duration.ofSeconds(30));
      step(
          "Started %d members %s in %d ms; data under %s; leader is %s",
          nodes, cluster.endpoints(), ms(t0), dir, leader.id());
      String follower =
          cluster.runningIds().stream().filter(id -> !id.equals(leader.id())).findFirst().get();

      try (Store store = cluster.openStore(follower)) {
        basics(store, follower);
        counter(cluster, store);
        watchAndLock(cluster, store, follower);
        failover(cluster);
      }
    } finally {
      if (temporary) {
        deleteRecursively(dir);
      }
    }
    step("Done in %.1f s: every member stopped, resources released.", ms(t0) / 1000.0);
    return 0;
  }

  private void basics(Store store, String node) {
    step(
        "Puts and reads through a store on follower %s (writes are forwarded to the leader)", node);
    store.put("demo/config/db/url", b("jdbc:postgresql://db:5432/app"), null);
    store.put("demo/config/db/pool", b("16"), null);
    store.put("demo/config/feature/dark-mode", b("off"), null);
    for (KVPair p : store.list("demo/config")) {
      out.printf("    %-32s = %-32s (index %d)%n", p.key(), p.valueAsString(), p.lastIndex());
    }
    KVPair url = store.get("demo/config/db/url");
    out.printf("    get %s -> %s, a linearizable read%n", url.key(), url.valueAsString());
  }

  private void counter(EmbeddedCluster cluster, Store store) throws Exception {
    step(
        "A counter raced by %d clients, %d increments each, with atomicPut (CAS on lastIndex)",
        counterClients, increments);
    store.atomicPut("demo/counter", b("0"), null, null);
    AtomicInteger retries = new AtomicInteger();
    List<Store> clients = new ArrayList<>();
    List<String> ids = cluster.runningIds();
    ExecutorService pool = Executors.newFixedThreadPool(counterClients);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < counterClients; c++) {
        Store s = cluster.openStore(ids.get(c % ids.size()));
        clients.add(s);
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < increments; i++) {
                    while (true) {
                      KVPair seen = s.get("demo/counter");
                      int next = Integer.parseInt(seen.valueAsString()) + 1;
                      try {
                        s.atomicPut("demo/counter", b(Integer.toString(next)), seen, null);
                        break;
                      } catch (KeyModifiedException raced) {
                        retries.incrementAndGet();
                      }
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
      clients.forEach(Store::close);
    }
    int expected = counterClients * increments;
    int actual = Integer.parseInt(store.get("demo/counter").valueAsString());
    out.printf(
        "    counter = %d (expected %d), %d CAS conflicts detected and retried%n",
        actual, expected, retries.get());
    if (actual != expected) {
      throw new IllegalStateException("lost update: counter " + actual + " != " + expected);
    }
  }

  private void watchAndLock(EmbeddedCluster cluster, Store store, String node) throws Exception {
    step("A watch on demo/config/feature/dark-mode, and a lock with fencing tokens");
    try (Watch<KVPair> watch = store.watch("demo/config/feature/dark-mode")) {
      KVPair first = watch.poll(Duration.ofSeconds(10));
      out.printf("    watch: current %s = %s%n", first.key(), first.valueAsString());
      String other = cluster.runningIds().stream().filter(id -> !id.equals(node)).findFirst().get();
      try (Store elsewhere = cluster.openStore(other)) {
        elsewhere.put("demo/config/feature/dark-mode", b("on"), null);
        KVPair ev = watch.poll(Duration.ofSeconds(10));
        out.printf(
            "    watch: %s changed to %s at index %d (written on %s)%n",
            ev.key(), ev.valueAsString(), ev.lastIndex(), other);
        elsewhere.delete("demo/config/feature/dark-mode");
        KVPair del = watch.poll(Duration.ofSeconds(10));
        out.printf("    watch: %s deleted at index %d%n", del.key(), del.lastIndex());

        Locker a =
            store.newLock("demo/locks/migration", LockOptions.builder().value(b(node)).build());
        Locker c =
            elsewhere.newLock(
                "demo/locks/migration", LockOptions.builder().value(b(other)).build());
        HeldLock ha = a.lock();
        out.printf(
            "    lock: held by %s, fencing token %d; key holds \"%s\"%n",
            node, ha.fencingToken(), store.get("demo/locks/migration").valueAsString());
        ExecutorService waiter = Executors.newSingleThreadExecutor();
        try {
          Future<HeldLock> hc = waiter.submit(() -> c.lock());
          a.unlock();
          HeldLock held = hc.get(30, TimeUnit.SECONDS);
          out.printf(
              "    lock: released; the waiter on %s got it with fencing token %d (> %d)%n",
              other, held.fencingToken(), ha.fencingToken());
          c.unlock();
        } finally {
          waiter.shutdownNow();
        }
      }
    }
  }

  private void failover(EmbeddedCluster cluster) throws Exception {
    EmbeddedNode leader = cluster.awaitLeader(Duration.ofSeconds(30));
    String survivor =
        cluster.runningIds().stream().filter(id -> !id.equals(leader.id())).findFirst().get();
    try (Store store = cluster.openStore(survivor)) {
      int before = 50;
      for (int i = 0; i < before; i++) {
        store.put("demo/events/" + String.format("%04d", i), b("event " + i), null);
      }
      step("Stopping the leader %s (%d events written before)", leader.id(), before);
      long t = System.nanoTime();
      cluster.stop(leader.id());
      EmbeddedNode next = cluster.awaitLeader(Duration.ofSeconds(30));
      out.printf("    new leader %s elected after %d ms%n", next.id(), ms(t));
      int after = 50;
      for (int i = before; i < before + after; i++) {
        store.put("demo/events/" + String.format("%04d", i), b("event " + i), null);
      }
      List<KVPair> events = store.list("demo/events");
      out.printf(
          "    %d events written after the failover; %d of %d present on %s, counter still %s%n",
          after,
          events.size(),
          before + after,
          survivor,
          store.get("demo/counter").valueAsString());
      if (events.size() != before + after) {
        throw new IllegalStateException(
            "lost writes: " + events.size() + " of " + (before + after));
      }
      step("Restarting %s: it catches up from its log and the others", leader.id());
      t = System.nanoTime();
      EmbeddedNode back = cluster.restart(leader.id());
      try (Store onBack = cluster.openStore(back.id())) {
        int seen = onBack.list("demo/events").size();
        out.printf("    %s is back after %d ms and serves all %d events%n", back.id(), ms(t), seen);
      }
    }
  }

  private void step(String format, Object... args) {
    out.println();
    out.println("== " + String.format(format, args));
  }

  private static long ms(long startNs) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("could not remove " + dir, e);
    }
  }
}
