package io.libkv.raft;

import io.libkv.store.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * The {@code embedded.*} options of {@link Config#options()}, checked once, and the Ratis
 * properties derived from them.
 *
 * <ul>
 *   <li>{@code embedded.reads}: {@code linearizable} (default; Raft ReadIndex, served by any
 *       member) or {@code stale} (the local member's applied state with no leadership check:
 *       faster, may miss recent writes of other stores, never the store's own member's acknowledged
 *       ones; a client-only store reads the leader's state without a check).
 *   <li>{@code embedded.transport}: {@code auto} (default: {@code netty}, or {@code grpc} when TLS
 *       is configured, since Ratis 3.3.0 has TLS on gRPC only), {@code grpc} or {@code netty}.
 *       Every member and store of one cluster must use the same transport: give them the same value
 *       and the same TLS setting.
 *   <li>{@code embedded.group}: the Raft group name (default {@code libkv}); every member and
 *       client of one cluster must use the same.
 *   <li>{@code embedded.electionTimeoutMs}: lower election timeout in ms (default 1000; the upper
 *       one is twice that).
 *   <li>{@code embedded.snapshotThreshold}: log entries between automatic snapshots (default
 *       10000).
 *   <li>{@code embedded.maxBatch}: most client writes per log entry (default 4096, at most 65536).
 *   <li>{@code embedded.maxInFlight}: log entries one store may have in flight (default 4).
 *   <li>{@code embedded.requestTimeoutMs}: Raft request timeout in ms (default 3000).
 *   <li>{@code embedded.minFreeDiskBytes}: the least usable space, in bytes, a leader keeps on the
 *       file systems of its {@code raft/} and {@code kv/} directories (default 268435456, 256 MiB;
 *       0 switches the check off). Below it the leader refuses, before the log, every write that
 *       adds data (puts, CAS puts, new locks and leases) with a {@code StoreException} naming the
 *       member, the directory and the usable bytes; deletes, lease renewals, unlocks and reads go
 *       on, and writes are admitted again as soon as space is freed (no restart). Only the leader's
 *       disk is checked (see {@link DiskGuard}); give every member the same value. A snapshot needs
 *       about as much free space as the data, so keep it above the data's size.
 *   <li>{@code embedded.maxDataBytes}: a cap on the leader's live data, in bytes (LMDB pages of
 *       keys, values and leases; not the revision history; default 0, no cap). At the cap the
 *       leader refuses writes that add data the same way, until keys are deleted. Like etcd's
 *       backend quota, it is checked on the leader only: the map itself is never capped, so every
 *       member applies every committed entry.
 * </ul>
 *
 * <p>{@link Config#tlsFiles()} switches on mutual TLS for every connection (see {@link RaftTls}).
 */
final class RaftSettings {
  static final String READS = "embedded.reads";
  static final String TRANSPORT = "embedded.transport";
  static final String GROUP = "embedded.group";
  static final String ELECTION_TIMEOUT_MS = "embedded.electionTimeoutMs";
  static final String SNAPSHOT_THRESHOLD = "embedded.snapshotThreshold";
  static final String MAX_BATCH = "embedded.maxBatch";

  static final String MAX_IN_FLIGHT = "embedded.maxInFlight";
  static final String REQUEST_TIMEOUT_MS = "embedded.requestTimeoutMs";
  static final String MIN_FREE_DISK_BYTES = "embedded.minFreeDiskBytes";
  static final String MAX_DATA_BYTES = "embedded.maxDataBytes";
  static final String JOIN_AS = "embedded.joinAs";

  /**
   * A certificate revocation list file (PEM or DER), with TLS: see {@link RevokingTrustManager}.
   */
  static final String TLS_CRL = "embedded.tlsCrl";

  /** Leader to unreachable follower: 1 ms x10, then 100 ms x40, then every 500 ms. */
  static final String APPENDER_RETRY_POLICY = "1ms,10, 100ms,40, 500ms,1000000000";

  /** How long every member remembers an applied request, to answer a late copy of it. */
  static final TimeDuration RETRY_CACHE_EXPIRY = TimeDuration.valueOf(5, TimeUnit.MINUTES);

  private static final Set<String> KNOWN =
      Set.of(
          READS,
          TRANSPORT,
          GROUP,
          ELECTION_TIMEOUT_MS,
          SNAPSHOT_THRESHOLD,
          MAX_BATCH,
          MAX_IN_FLIGHT,
          REQUEST_TIMEOUT_MS,
          MIN_FREE_DISK_BYTES,
          MAX_DATA_BYTES,
          JOIN_AS,
          TLS_CRL);

  final boolean linearizableReads;
  final SupportedRpcType transport;
  final String group;
  final long electionTimeoutMs;
  final long snapshotThreshold;
  final int maxBatch;
  final int maxInFlight;
  final long requestTimeoutMs;
  final long minFreeDiskBytes;
  final long maxDataBytes;
  final Duration connectionTimeout;

  /**
   * Whether a member started with {@code join} waits as a learner (to be added with {@code
   * addLearner}) rather than with no configuration (to be added as a voting member).
   */
  final boolean joinAsLearner;

  /** Mutual TLS for every connection of members and clients, or {@code null} for plaintext. */
  final RaftTls tls;

  private RaftSettings(Config config) {
    Map<String, String> o = config.options();
    for (String name : o.keySet()) {
      if (name.startsWith("embedded.") && !KNOWN.contains(name)) {
        throw new IllegalArgumentException(
            "unknown EMBEDDED option '" + name + "'; known: " + KNOWN.stream().sorted().toList());
      }
    }
    String reads = o.getOrDefault(READS, "linearizable").toLowerCase(Locale.ROOT);
    switch (reads) {
      case "linearizable" -> linearizableReads = true;
      case "stale" -> linearizableReads = false;
      default ->
          throw new IllegalArgumentException(
              READS + " must be 'linearizable' or 'stale', was '" + reads + "'");
    }
    String t = o.getOrDefault(TRANSPORT, "auto").toLowerCase(Locale.ROOT);
    switch (t) {
      // Netty measured faster (bench/results/request-path); Ratis 3.3.0 has TLS on gRPC only.
      case "auto" ->
          transport = config.tlsEnabled() ? SupportedRpcType.GRPC : SupportedRpcType.NETTY;
      case "grpc" -> transport = SupportedRpcType.GRPC;
      case "netty" -> transport = SupportedRpcType.NETTY;
      default ->
          throw new IllegalArgumentException(
              TRANSPORT + " must be 'auto', 'grpc' or 'netty', was '" + t + "'");
    }
    tls = RaftTls.of(config, transport == SupportedRpcType.GRPC);
    group = o.getOrDefault(GROUP, Peers.DEFAULT_GROUP);
    electionTimeoutMs = positive(o, ELECTION_TIMEOUT_MS, 1000, 50, 60_000);
    snapshotThreshold = positive(o, SNAPSHOT_THRESHOLD, 10_000, 1, Long.MAX_VALUE);
    maxBatch = (int) positive(o, MAX_BATCH, 4096, 1, 1 << 16);
    maxInFlight = (int) positive(o, MAX_IN_FLIGHT, 4, 1, 1024);
    requestTimeoutMs = positive(o, REQUEST_TIMEOUT_MS, 3000, 100, 600_000);
    minFreeDiskBytes =
        positive(o, MIN_FREE_DISK_BYTES, DiskGuard.DEFAULT_MIN_FREE_BYTES, 0, Long.MAX_VALUE);
    maxDataBytes = positive(o, MAX_DATA_BYTES, 0, 0, Long.MAX_VALUE);
    connectionTimeout = config.connectionTimeout();
    String join = o.getOrDefault(JOIN_AS, "member").toLowerCase(Locale.ROOT);
    switch (join) {
      case "member" -> joinAsLearner = false;
      case "learner" -> joinAsLearner = true;
      default ->
          throw new IllegalArgumentException(
              JOIN_AS + " must be 'member' or 'learner', was '" + join + "'");
    }
  }

  /**
   * Reads and checks the options.
   *
   * @throws IllegalArgumentException naming the bad option and its limits
   */
  static RaftSettings of(Config config) {
    return new RaftSettings(config);
  }

  private static long positive(Map<String, String> o, String name, long def, long min, long max) {
    String v = o.get(name);
    if (v == null) {
      return def;
    }
    long n;
    try {
      n = Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a number, was '" + v + "'", e);
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException(
          name + " must be between " + min + " and " + max + ", was " + n);
    }
    return n;
  }

  /**
   * The Ratis parameters shared by servers and clients: the TLS configuration (used by the gRPC
   * server, its connections to other members, and clients' connections), if any.
   */
  Parameters parameters() {
    Parameters p = new Parameters();
    if (tls != null) {
      GrpcConfigKeys.TLS.setConf(p, tls.grpc);
    }
    return p;
  }

  /**
   * How long a store's call waits for the group at most: a call is retried for the connection
   * timeout and its last attempt may take a request timeout, so waiting that long reports the last
   * attempt's failure (for example a TLS refusal), not a bare timeout.
   */
  long callWaitMs() {
    return connectionTimeout.toMillis() + requestTimeoutMs;
  }

  /** The properties shared by servers and clients: transport and timeouts. */
  RaftProperties clientProperties() {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, transport);
    RaftClientConfigKeys.Rpc.setRequestTimeout(
        p, TimeDuration.valueOf(requestTimeoutMs, TimeUnit.MILLISECONDS));
    // A store keeps at most maxInFlight entries (plus reads) outstanding, so this never binds.
    RaftClientConfigKeys.Async.setOutstandingRequestsMax(p, 1024);
    GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf("128MB"));
    return p;
  }

  /** The properties of the server for {@code self}, storing its Raft log under {@code dir}. */
  RaftProperties serverProperties(RaftPeer self, Path dir) {
    RaftProperties p = clientProperties();
    // The member's transport, with votes ordered after begun appends (see VoteFence).
    RaftConfigKeys.Rpc.setType(p, VoteFence.of(transport));
    RaftServerConfigKeys.setStorageDir(p, List.of(dir.toFile()));
    String host = Peers.address(self).getHostString();
    int port = Peers.address(self).getPort();
    if (transport == SupportedRpcType.GRPC) {
      GrpcConfigKeys.Server.setHost(p, host);
      GrpcConfigKeys.Server.setPort(p, port);
    } else {
      NettyConfigKeys.Server.setHost(p, host);
      NettyConfigKeys.Server.setPort(p, port);
    }
    // Reads: ReadIndex, never a bare leader lease (see package docs). The leader's check that it
    // still leads is ReadIndexRounds', not Ratis': Ratis 3.3.0 skips its own once a heartbeat round
    // has acknowledged the commit index, which a deposed leader that has not noticed keeps.
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, false);
    RaftServerConfigKeys.Read.setLeaderHeartbeatCheckEnabled(p, false);
    RaftServerConfigKeys.Read.setTimeout(
        p, TimeDuration.valueOf(requestTimeoutMs, TimeUnit.MILLISECONDS));

    TimeDuration min = TimeDuration.valueOf(electionTimeoutMs, TimeUnit.MILLISECONDS);
    TimeDuration max = TimeDuration.valueOf(electionTimeoutMs * 2, TimeUnit.MILLISECONDS);
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, min);
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, max);
    RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(p, min);
    RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(p, max);
    RaftServerConfigKeys.Rpc.setRequestTimeout(
        p, TimeDuration.valueOf(requestTimeoutMs, TimeUnit.MILLISECONDS));

    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, snapshotThreshold);
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.min(Integer.MAX_VALUE, snapshotThreshold));
    RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);
    // The leader retries a follower it cannot reach at most every ~0.5 s (Ratis' default backs off
    // to 5 s after 30 failures, so a member back from a long stop waited seconds to be reached).
    RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, APPENDER_RETRY_POLICY);

    // A write's every attempt is the same request (client id, call id), and Ratis' retry cache,
    // kept by every member as it applies, answers a copy that arrives while the write is still
    // awaited (with the first reply) instead of appending it twice. Five minutes of entries cost a
    // few hundred bytes each (one per batch, not per put). A copy of a call its client has
    // finished with is the replicated client sessions' (ClientSessions; raft/README).
    RaftServerConfigKeys.RetryCache.setExpiryTime(p, RETRY_CACHE_EXPIRY);
    // Throughput: a batch entry may be large; never unsafe-flush (acknowledging before fsync).
    RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, false);
    // Nor async-flush: in Ratis 3.3.0 its completion marks the log worker's lastWrittenIndex as
    // flushed when the force returns, read at that moment, so entries written while the force ran
    // would count as durable without having been forced (SegmentedRaftLogWorker
    // .asyncFlushOutStream).
    RaftServerConfigKeys.Log.setAsyncFlushEnabled(p, false);
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf("64MB"));
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf("16MB"));
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf("8MB"));
    RaftServerConfigKeys.Log.Appender.setSnapshotChunkSizeMax(p, SizeInBytes.valueOf("4MB"));
    RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
    // No metadata entry per commit. Ratis' default appends, after every commit, a log entry
    // recording the new commit index: each write then costs two entries, two log fsyncs on every
    // member, and a second AppendEntries that holds the follower's only appender call (Netty's is
    // one call at a time) while the next write waits. The commit index needs no persisting: a
    // restarted member learns it from the leader (a new leader commits an entry of its own term
    // first), and every acknowledged entry is in the log, fsynced, either way. Followers hear of
    // a commit from CommitAnnouncer instead.
    RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
    // No minimum gap between two AppendEntries to a follower (Ratis 3.3.0's default is 1 ms; its
    // docs say 10 ms). Interleaved runs of ./libkv bench measured 0 and 1 ms the same
    // (single-client
    // put p50 6-9 ms, 64 and 512 clients within noise); a 10 ms gap tripled a lone client's p50.
    RaftServerConfigKeys.Log.Appender.setWaitTimeMin(p, TimeDuration.ZERO);
    RaftServerConfigKeys.Write.setByteLimit(p, SizeInBytes.valueOf("256MB"));
    return p;
  }
}
