package io.libkv.raft;

/**
 * Running counts of one embedded member's work at one moment ({@link EmbeddedNode#counters()}), for
 * operators and metrics. The figures are read one after the other, not atomically.
 *
 * @param openWatches key and tree watches open on the stores of this member now
 * @param droppedWatchEvents events those watches dropped to coalesce for slow readers since the
 *     member started (a watch keeps a bounded number of unread events); never decreases
 * @param liveLeases leases in this member's copy of the data: granted leases (locks) and the leases
 *     of keys written with a TTL; {@code -1} if the data cannot be read (the node is closed)
 * @param queuedWrites writes from this member's stores that are queued or sent to the leader and
 *     not yet answered
 */
public record MemberCounters(
    int openWatches, long droppedWatchEvents, long liveLeases, int queuedWrites) {}
