package io.libkv.raft;

import static io.libkv.raft.EmbeddedClusterIT.waitUntil;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.AsyncStore;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.Store;
import io.libkv.store.Watch;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Where a member's stores send their writes: straight into their own member while it leads, to the
 * leader over the transport otherwise, and to the new leader after a leader change.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RequestRouterIT {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static EmbeddedNode aFollower(EmbeddedCluster cluster, EmbeddedNode leader) {
    return cluster.node(
        cluster.runningIds().stream().filter(id -> !id.equals(leader.id())).findFirst().get());
  }

  private static RequestRouter router(EmbeddedNode n) {
    return n.channel().router();
  }

  @ParameterizedTest
  @ValueSource(strings = {"grpc", "netty"})
  void theLeadersStoresWriteIntoTheirOwnMemberAndFollowersStoresGoToTheLeader(String transport)
      throws Exception {
    Config config = Config.builder().option(RaftSettings.TRANSPORT, transport).build();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(3).baseDir(dir).config(config).start()) {
      EmbeddedNode leader = cluster.awaitLeader();
      EmbeddedNode follower = aFollower(cluster, leader);
      long leaderLocal = router(leader).localAttempts();
      long leaderRemote = router(leader).remoteAttempts();
      long followerLocal = router(follower).localAttempts();
      long followerRemote = router(follower).remoteAttempts();
      try (Store onLeader = leader.openStore();
          Store onFollower = follower.openStore()) {
        for (int i = 0; i < 20; i++) {
          onLeader.put("route/leader/" + i, b("l" + i), null);
          onFollower.put("route/follower/" + i, b("f" + i), null);
        }
        // Each blocking put is one entry: 20 into the leader's own member, none over the wire;
        // the follower's 20 went over the transport (it never leads here).
        assertTrue(
            router(leader).localAttempts() - leaderLocal >= 20,
            "leader's local attempts " + (router(leader).localAttempts() - leaderLocal));
        assertEquals(leaderRemote, router(leader).remoteAttempts(), "leader's remote attempts");
        assertEquals(followerLocal, router(follower).localAttempts(), "follower's local attempts");
        assertTrue(router(follower).remoteAttempts() - followerRemote >= 20);
        // Each store reads its own writes and the other's (its member applied them first).
        for (int i = 0; i < 20; i++) {
          assertArrayEquals(b("l" + i), onFollower.get("route/leader/" + i).value());
          assertArrayEquals(b("f" + i), onLeader.get("route/follower/" + i).value());
        }
        // A write acknowledged to the leader's store is seen at once by the follower's store: its
        // linearizable read waits until its own copy has the leader's state.
        for (int i = 0; i < 50; i++) {
          onLeader.put("route/ryw", b("v" + i), null);
          assertArrayEquals(b("v" + i), onFollower.get("route/ryw").value(), "read " + i);
        }
      }
    }
  }

  /**
   * A write is acknowledged once the leader applied it; the follower applies it when it learns the
   * commit index, about a write's time later. A store reading its member's copy without a barrier
   * waits for that copy to hold the writes it was acknowledged, so it still reads its own writes
   * (and a lock, which reads its queue that way, sees its own place in it).
   */
  @ParameterizedTest
  @ValueSource(strings = {"grpc", "netty"})
  void aFollowersStoreWithStaleReadsReadsItsOwnWrites(String transport) throws Exception {
    Config config =
        Config.builder()
            .option(RaftSettings.TRANSPORT, transport)
            .option("embedded.reads", "stale")
            .build();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(3).baseDir(dir).config(config).start()) {
      EmbeddedNode leader = cluster.awaitLeader();
      EmbeddedNode follower = aFollower(cluster, leader);
      try (Store s = follower.openStore()) {
        for (int i = 0; i < 300; i++) {
          KVPair put =
              ((AsyncStore) s).putAsync("ryw/k", b("v" + i), null).get(30, TimeUnit.SECONDS);
          KVPair got = s.get("ryw/k");
          assertArrayEquals(b("v" + i), got.value(), "read " + i);
          assertEquals(put.lastIndex(), got.lastIndex(), "read " + i);
        }
        for (int i = 0; i < 20; i++) {
          io.libkv.store.Locker l = s.newLock("ryw/lock", null);
          l.lock(Duration.ofSeconds(30));
          l.unlock();
        }
      }
    }
  }

  /**
   * A follower learns each commit from an AppendEntries the leader sends as soon as it has
   * committed, not from the next heartbeat: a watch through a follower's store sees a lone write
   * well within a heartbeat interval. With a 4 s election timeout the leader sends heartbeats 2 s
   * after its last AppendEntries to a follower, so a follower that waited for one would apply each
   * write about 2 s after the writer's call returned.
   */
  @Test
  void aFollowerAppliesALoneWriteWithoutWaitingForAHeartbeat() throws Exception {
    Config config = Config.builder().option(RaftSettings.ELECTION_TIMEOUT_MS, "4000").build();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(3).baseDir(dir).config(config).start()) {
      EmbeddedNode leader = cluster.awaitLeader();
      try (Store writer = leader.openStore();
          Store reader = aFollower(cluster, leader).openStore();
          Watch<KVPair> watch = reader.watch("commit/k")) {
        for (int i = 0; i < 3; i++) {
          writer.put("commit/k", b("v" + i), null);
          long returned = System.nanoTime();
          KVPair seen = watch.poll(Duration.ofSeconds(10));
          long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - returned);
          assertNotNull(seen, "write " + i + " never reached the follower's watch");
          assertArrayEquals(b("v" + i), seen.value(), "write " + i);
          assertTrue(
              ms < 1000,
              "write "
                  + i
                  + " reached the follower's watch "
                  + ms
                  + " ms after the write returned: the follower waited for a heartbeat");
        }
      }
    }
  }

  @Test
  void afterALeaderTransferWritesFollowTheNewLeaderAndEachIsAppliedOnce() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(3, dir)) {
      EmbeddedNode oldLeader = cluster.awaitLeader();
      List<String> others = new ArrayList<>(cluster.runningIds());
      others.remove(oldLeader.id());
      EmbeddedNode next = cluster.node(others.get(0));
      EmbeddedNode third = cluster.node(others.get(1));
      try (Store onOld = oldLeader.openStore();
          Store onNext = next.openStore();
          Store onThird = third.openStore()) {
        // Every store learns the current leader.
        onOld.put("transfer/warm/old", b("1"), null);
        onNext.put("transfer/warm/next", b("1"), null);
        onThird.put("transfer/warm/third", b("1"), null);
        long thirdRedirects = router(third).redirects();

        RaftClientReply r =
            oldLeader
                .channel()
                .client()
                .admin()
                .transferLeadership(RaftPeerId.valueOf(next.id()), 20_000);
        assertTrue(r.isSuccess(), "transfer: " + r);
        waitUntil(next::isLeader, Duration.ofSeconds(30), next.id() + " to lead");
        assertNotEquals(true, oldLeader.isLeader());

        long nextLocal = router(next).localAttempts();
        long oldRemote = router(oldLeader).remoteAttempts();
        // The third member's store still believes in the old leader: it is redirected.
        onThird.put("transfer/third", b("t"), null);
        KVPair v = onThird.get("transfer/third");
        assertTrue(
            router(third).redirects() > thirdRedirects,
            "the third member's store followed a NotLeaderException redirect");
        // The new leader's store now writes into its own member; the old one's goes over the wire.
        onNext.put("transfer/next", b("n"), null);
        onOld.put("transfer/old", b("o"), null);
        assertTrue(router(next).localAttempts() > nextLocal, "new leader's store went local");
        assertTrue(
            router(oldLeader).remoteAttempts() > oldRemote, "old leader's store went remote");

        // A CAS counter raced from all three stores: each increment is applied exactly once (a
        // resent entry is answered from Ratis' retry cache, not appended twice).
        Store[] all = {onOld, onNext, onThird};
        onOld.put("transfer/counter", b("0"), null);
        int increments = 0;
        for (int i = 0; i < 30; i++) {
          Store s = all[i % 3];
          while (true) {
            KVPair cur = s.get("transfer/counter");
            int n = Integer.parseInt(new String(cur.value(), UTF_8));
            try {
              s.atomicPut("transfer/counter", b(Integer.toString(n + 1)), cur, null);
              increments++;
              break;
            } catch (io.libkv.store.KeyModifiedException e) {
              // raced: read again
            }
          }
        }
        assertEquals(
            Integer.toString(increments),
            new String(onThird.get("transfer/counter").value(), UTF_8));
        assertTrue(v.lastIndex() > 0);
      }
    }
  }

  @Test
  void pipelinedWritesThroughTheLeadersStoreApplyInCallOrder() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(3, dir)) {
      EmbeddedNode leader = cluster.awaitLeader();
      try (Store s = leader.openStore()) {
        AsyncStore a = (AsyncStore) s;
        List<CompletableFuture<KVPair>> fs = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
          fs.add(a.putAsync("order/k", b(Integer.toString(i)), null));
        }
        long last = 0;
        for (CompletableFuture<KVPair> f : fs) {
          long index = f.get(60, TimeUnit.SECONDS).lastIndex();
          assertTrue(index > last, "indexes grow in call order: " + index + " after " + last);
          last = index;
        }
        assertArrayEquals(b("1999"), s.get("order/k").value());
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"grpc", "netty"})
  void aClientOnlyStoreThatOnlyReadsFindsTheLeaderAndWatches(String transport) throws Exception {
    Config config = Config.builder().option(RaftSettings.TRANSPORT, transport).build();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder().nodes(3).baseDir(dir).config(config).start()) {
      EmbeddedNode leader = cluster.awaitLeader();
      RaftChannel<io.libkv.storage.engine.Command, io.libkv.storage.engine.CommandResult> channel =
          new RaftChannel<>(
              leader.member().group,
              null,
              RaftSettings.of(config),
              io.libkv.storage.engine.CommandCodec::encodeCommands,
              io.libkv.storage.engine.CommandCodec::decodeResults,
              io.libkv.storage.engine.CommandCodec::encodedLength,
              null,
              Runnable::run);
      try (Store writer = leader.openStore();
          Store reader =
              io.libkv.LibKV.newStore(
                  io.libkv.store.Backend.EMBEDDED, cluster.endpoints(), config)) {
        writer.put("reads/k", b("v0"), null);
        // A channel that has never written: its first linearizable query finds the leader (on
        // Netty a follower cannot take a ReadIndex from the leader and never answers one).
        for (int i = 0; i < 10; i++) {
          channel.barrier().get(30, TimeUnit.SECONDS);
        }
        // Its reads stay with the member that answered: on gRPC any member (followers take the
        // ReadIndex from the leader), on Netty only the leader can.
        assertTrue(channel.router().leader() != null, "a member to read from");
        if (transport.equals("netty")) {
          assertEquals(leader.id(), String.valueOf(channel.router().leader()));
        }

        assertArrayEquals(b("v0"), reader.get("reads/k").value());
        try (io.libkv.store.Watch<KVPair> w = reader.watch("reads/k")) {
          assertArrayEquals(b("v0"), w.poll(Duration.ofSeconds(30)).value());
          writer.put("reads/k", b("v1"), null);
          KVPair e = w.poll(Duration.ofSeconds(30));
          assertArrayEquals(b("v1"), e == null ? null : e.value(), "the watch saw the put");
        }
      } finally {
        channel.close();
      }
    }
  }
}
