package io.libkv.raft;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.CommandResult;
import io.libkv.storage.engine.EngineStore;
import io.libkv.storage.engine.KvReader;
import io.libkv.storage.engine.WatchHub;
import io.libkv.store.Config;
import io.libkv.store.NotReachableException;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.ratis.protocol.RaftGroup;

/**
 * Stores with no member in this process: a client of the cluster that stores nothing locally.
 * Writes go through the Raft log like a member store's; each read is a Raft read-only query
 * (linearizable by default) answered by the leader from its copy; watches follow the cluster's
 * revision history by polling it with such queries every {@link #WATCH_POLL} (so a change reaches a
 * client-only watch up to that much later than a member's; none is skipped, and a watch resuming
 * before the history's floor fails with the oldest index available).
 *
 * <p>Each read is one query answered from one snapshot on the member that serves it ({@link
 * ReadCodec#reader}): a {@code list}, a watch's start, resync or poll sees one state, never a mix
 * of two. Gets from many threads at once are coalesced: while {@link #GETS_IN_FLIGHT} batches are
 * outstanding, further gets wait and go together as one query (one round trip and one ReadIndex for
 * all of them; each is still invoked before its ReadIndex, so each stays linearizable). A thread
 * reading alone pays one round trip per get, as before.
 */
final class ClientStores {
  /** How often a client-only store polls the cluster's history for its watches. */
  static final Duration WATCH_POLL = Duration.ofMillis(100);

  /** Batches of gets one store may have outstanding at once. */
  static final int GETS_IN_FLIGHT = 2;

  /** Bound on the values of one batch's reply (the gRPC message limit is 128 MiB). */
  private static final int GET_BATCH_REPLY_BYTES = 32 << 20;

  private ClientStores() {}

  static Store open(List<String> endpoints, Config config) {
    RaftSettings settings = RaftSettings.of(config);
    RaftGroup group = Peers.group(settings.group, Peers.parse(endpoints));
    RaftChannel<Command, CommandResult> channel =
        new RaftChannel<>(
            group,
            (RequestRouter.Local) null,
            settings,
            CommandCodec::encodeCommands,
            CommandCodec::decodeResults,
            io.libkv.storage.engine.CommandCodec::encodedLength,
            null,
            Runnable::run);
    List<String> eps = channel.endpoints();
    TlsProbe probe = new TlsProbe(endpoints, settings.tls);
    if (settings.tls != null) {
      // At an endpoint's address, only that member's certificate.
      java.util.Map<String, String> at = new java.util.HashMap<>();
      for (org.apache.ratis.protocol.RaftPeer p : Peers.parse(endpoints)) {
        at.put(p.getAddress(), p.getId().toString());
      }
      settings.tls.knowMembers(at::get);
    }
    long writeMs = settings.callWaitMs();
    Duration readWait = Duration.ofMillis(writeMs);
    boolean linearizable = settings.linearizableReads;
    // A reply holds up to one value per get: bound the batch so that the reply stays far under
    // the transport's message limit even when every value is as large as allowed.
    int maxGets =
        Math.max(1, Math.min(512, GET_BATCH_REPLY_BYTES / (config.maxValueBytes() + 1024)));
    GroupCommitter<byte[], Wire.Answer> gets =
        new GroupCommitter<>(
            batch -> channel.queryBatch(batch, linearizable),
            req -> req.length,
            maxGets,
            Integer.MAX_VALUE,
            GETS_IN_FLIGHT);
    Function<byte[], byte[]> send =
        req ->
            req.length > 0 && req[0] == ReadCodec.GET
                ? await(gets.submit(req), readWait, eps, probe).bodyOrThrow()
                : await(channel.query(req, linearizable), readWait, eps, probe);
    KvReader reader = ReadCodec.reader(send);
    WatchHub hub = null;
    try {
      String name = "client-" + Integer.toHexString(System.identityHashCode(channel));
      hub = new WatchHub(reader, name, WATCH_POLL);
      WatchHub h = hub;
      return new EngineStore(
          "embedded-" + name,
          cmd ->
              EmbeddedNode.bounded(
                  channel.write(cmd).orTimeout(writeMs, TimeUnit.MILLISECONDS),
                  eps,
                  "write " + cmd,
                  probe),
          reader,
          hub,
          config,
          closed -> {
            h.close();
            gets.close(t -> new StoreException("the store is closed"));
            channel.close();
          });
    } catch (RuntimeException e) {
      if (hub != null) {
        hub.close();
      }
      gets.close(t -> new StoreException("the store is closed"));
      channel.close();
      throw e;
    }
  }

  private static <T> T await(
      CompletableFuture<T> f, Duration timeout, List<String> endpoints, TlsProbe probe) {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted during a read", e);
    } catch (ExecutionException e) {
      throw RatisErrors.map(e.getCause(), endpoints, "read", probe);
    } catch (TimeoutException e) {
      throw RatisErrors.map(
          new NotReachableException(
              endpoints, "read got no answer within " + timeout.toMillis() + " ms", e),
          endpoints,
          "read",
          probe);
    }
  }
}
