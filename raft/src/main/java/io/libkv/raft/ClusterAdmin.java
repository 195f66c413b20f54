package io.libkv.raft;

import io.libkv.store.Config;
import java.util.List;

/**
 * A handle on an embedded cluster's membership: every member's status, adding and removing voting
 * members and learners, promoting a learner, moving the leadership. Open one as a client of the
 * cluster with {@link #connect}, or from a member running in this process with {@link
 * EmbeddedNode#admin()}; close it when done (closing it never stops a member).
 *
 * <p>A <b>learner</b> (Ratis calls it a listener) replicates the log and serves reads from its copy
 * but does not vote: it counts for neither elections nor commits, so adding one never makes the
 * cluster slower to commit or less available. Promote it once it has caught up.
 *
 * <p>Every change is one Raft configuration change (joint consensus), made on the current leader
 * and only if the configuration is still the one the call read first: a concurrent change makes the
 * call fail rather than undo the other. A member to add must already run, started empty with {@link
 * EmbeddedNode#join} ({@code ./libkv node --join}), with the same group and TLS settings; the call
 * returns once the new configuration is committed (for a voting member, once it has caught up).
 *
 * <p>Errors: a bad endpoint, an unknown id, or a change that makes no sense (removing the last
 * voting member, promoting a voter, moving the leadership to a learner) is an {@link
 * IllegalArgumentException} saying so, before anything is sent; no leader, or no answer in time, is
 * an {@link io.libkv.store.NotReachableException}; a refused or concurrent change is a {@link
 * io.libkv.store.StoreException} with the members' reason. Thread-safe; each call blocks up to
 * about {@link Config#connectionTimeout()} (a voting member's catch-up may take longer).
 */
public interface ClusterAdmin extends AutoCloseable {

  /**
   * Opens a handle as a client of the cluster (nothing runs or is stored in this process).
   *
   * @param endpoints some or all members, {@code id=host:port}; the others are learned from them
   * @param config a client's configuration: {@link Config#tlsFiles()} if the cluster uses TLS,
   *     {@code embedded.*} options such as the group and transport as the members have them, and
   *     {@link Config#connectionTimeout()}; no node id or data directory
   * @throws IllegalArgumentException if an endpoint or the configuration is invalid
   */
  static ClusterAdmin connect(List<String> endpoints, Config config) {
    if (config.nodeId().isPresent() || config.dataDir().isPresent()) {
      throw new IllegalArgumentException(
          "ClusterAdmin.connect is a client: give neither nodeId nor dataDir (from a member in"
              + " this process, use EmbeddedNode.admin())");
    }
    return new RaftClusterAdmin(Peers.parse(endpoints), RaftSettings.of(config));
  }

  /**
   * Every member of the cluster's current configuration as it reports itself: voting members first,
   * then learners, each group by id. Each member is asked directly, in parallel; one that does not
   * answer within the request timeout ({@code embedded.requestTimeoutMs}, at most the connection
   * timeout) is listed with role {@link MemberStatus.Role#STOPPED}, {@code -1} for what it could
   * not tell, and {@link MemberStatus#failure()} saying why, rather than failing the call.
   *
   * @return the members, never empty
   * @throws io.libkv.store.NotReachableException if no member answers at all
   */
  List<MemberStatus> members();

  /**
   * Adds a voting member. It must be running, started with {@link EmbeddedNode#join}; the call
   * returns once it has caught up and the new configuration is committed.
   *
   * @param endpoint the new member, {@code id=host:port}
   * @throws IllegalArgumentException if the endpoint is invalid, or its id or address is a member's
   * @throws io.libkv.store.NotReachableException if the new member or the leader does not answer
   */
  void addMember(String endpoint);

  /**
   * Adds a learner: a member that replicates the log and serves reads but does not vote. It must be
   * running, started with {@link EmbeddedNode#join}.
   *
   * @param endpoint the new learner, {@code id=host:port}
   * @throws IllegalArgumentException if the endpoint is invalid, or its id or address is a member's
   * @throws io.libkv.store.NotReachableException if the learner or the leader does not answer
   */
  void addLearner(String endpoint);

  /**
   * Makes a learner a voting member (it catches up first, if it has not).
   *
   * @throws IllegalArgumentException if {@code id} is not a learner of the cluster
   */
  void promote(String id);

  /**
   * Removes a voting member or a learner from the configuration. The removed member stops taking
   * part (stop its process afterwards; its data directory can then be deleted). Removing the leader
   * is allowed: the others elect a new one.
   *
   * @throws IllegalArgumentException if {@code id} is not a member, or is the last voting member
   */
  void removeMember(String id);

  /**
   * Makes the voting member {@code id} the leader, and returns once it leads (at once if it does).
   *
   * @throws IllegalArgumentException if {@code id} is not a voting member
   * @throws io.libkv.store.StoreException if the transfer does not complete in time (the member is
   *     down or behind), saying so
   */
  void transferLeadership(String id);

  /**
   * The cluster's access rules, in the order they were granted; empty while permissions are off.
   * Rules are enforced only with TLS, where each client is named by its certificate ({@link
   * AccessRule}); members, and stores inside a member's process, are never checked.
   *
   * @throws io.libkv.store.PermissionDeniedException if permissions are on and this handle's
   *     certificate has no {@link Permission#ADMIN} permission
   * @throws io.libkv.store.NotReachableException if no leader answers in time
   */
  List<AccessRule> accessRules();

  /**
   * Grants {@code identity} the {@code permissions} on every key starting with {@code keyPrefix}
   * (added to what an existing rule of the same identity and prefix allows), and returns once the
   * change is committed. The first rule turns permissions on: from then on a client certificate may
   * do only what a rule allows, so grant an administrator {@link Permission#ADMIN} first.
   *
   * @throws IllegalArgumentException if the rule is not valid ({@link AccessRule})
   * @throws io.libkv.store.PermissionDeniedException if permissions are on and this handle's
   *     certificate has no {@link Permission#ADMIN} permission; nothing changed
   */
  void grant(String identity, String keyPrefix, java.util.Set<Permission> permissions);

  /**
   * Takes {@code permissions} from {@code identity}'s rule on exactly {@code keyPrefix} (a rule
   * left with none is removed; removing the last rule turns permissions off), and returns once the
   * change is committed. Does nothing if there is no such rule.
   *
   * @throws io.libkv.store.PermissionDeniedException as {@link #grant}
   */
  void revoke(String identity, String keyPrefix, java.util.Set<Permission> permissions);

  /** Releases the handle's connections. Idempotent; never stops a member. */
  @Override
  void close();
}
