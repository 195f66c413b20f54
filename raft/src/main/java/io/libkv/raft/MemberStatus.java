package io.libkv.raft;

import java.util.Optional;

/**
 * What one embedded member reports of itself at one moment ({@link EmbeddedNode#status()}). The
 * figures are read one after the other, not atomically: under load the commit index may already be
 * ahead of the applied index read a moment before.
 *
 * @param id the member's id
 * @param endpoint the member's endpoint, {@code id=host:port}
 * @param role the member's Raft role
 * @param term the member's current Raft term ({@code -1} if its Raft server is not running)
 * @param leaderId the leader this member knows of, empty while it knows none
 * @param commitIndex the highest log index this member knows to be committed
 * @param appliedIndex the highest log index applied to this member's copy of the data
 * @param logBytes bytes of Raft log segments on this member's disk
 * @param snapshotIndex the log index of this member's latest snapshot, {@code -1} if none
 * @param snapshotBytes bytes of that snapshot file, {@code 0} if none
 * @param diskFreeBytes bytes free (usable) on the file system of the data directory
 * @param failure why the member stopped by itself, empty while it runs; in {@link
 *     ClusterAdmin#members()}, also why a member that did not answer could not be asked (its
 *     figures are then {@code -1})
 */
public record MemberStatus(
    String id,
    String endpoint,
    Role role,
    long term,
    Optional<String> leaderId,
    long commitIndex,
    long appliedIndex,
    long logBytes,
    long snapshotIndex,
    long snapshotBytes,
    long diskFreeBytes,
    Optional<String> failure) {

  /** A member's part in the Raft group. */
  public enum Role {
    /** Leads: takes writes and confirms linearizable reads. */
    LEADER,
    /** Votes and replicates the leader's log. */
    FOLLOWER,
    /** Asks for votes to become the leader. */
    CANDIDATE,
    /**
     * Replicates the log and serves reads but does not vote (a learner; Ratis calls it a listener).
     */
    LEARNER,
    /**
     * Its Raft server is not running (closed, or stopped by itself: see {@code failure}); in {@link
     * ClusterAdmin#members()}, also a member that did not answer.
     */
    STOPPED
  }

  /** Whether this member is ready to serve: it knows a leader and has applied up to the commit. */
  public boolean ready() {
    return role != Role.STOPPED && leaderId.isPresent() && appliedIndex >= commitIndex;
  }
}
