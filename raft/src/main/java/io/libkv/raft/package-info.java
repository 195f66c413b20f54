/**
 * {@code Backend.EMBEDDED}: a Raft-replicated key-value store inside the application. Each member
 * runs an Apache Ratis server whose state machine applies committed log entries to the LMDB engine
 * of {@code libkv-storage}; every {@link io.libkv.store.Store} semantic (CAS, TTL, watches, locks)
 * comes from the storage module's engine store, fed by this package's write path (Raft log, group
 * commit) and read path (Raft ReadIndex).
 *
 * <h2>Entry points</h2>
 *
 * <ul>
 *   <li>{@link io.libkv.raft.EmbeddedStoreProvider}: {@code LibKV.newStore(Backend.EMBEDDED, peers,
 *       config)} (ServiceLoader).
 *   <li>{@link io.libkv.raft.EmbeddedNode}: one member, as a library object or a process ({@code
 *       main}).
 *   <li>{@link io.libkv.raft.ClusterAdmin}: a cluster's members and their status, membership
 *       changes (voting members and learners), leadership transfer; as a client, or from a node.
 *   <li>{@link io.libkv.raft.EmbeddedCluster}: N members in this process, for tests and demos;
 *       {@link io.libkv.raft.EmbeddedClusterExtension} starts one for a JUnit 5 test class.
 * </ul>
 *
 * <h2>Indices</h2>
 *
 * A key's {@code lastIndex} is its Raft revision: command {@code k} of log entry {@code i} has
 * revision {@code i * 65536 + k}. One entry carries up to 65,536 client writes (group commit), so
 * revisions are strictly increasing in log order, comparable across keys, and identical on every
 * member. CAS is decided by the state machine, in log order.
 *
 * <h2>Reads</h2>
 *
 * Linearizable by default (ReadIndex): the leader confirms its leadership with a heartbeat round
 * begun after the read arrived ({@code ReadIndexRounds}, in place of Ratis 3.3.0's own check, which
 * skips the round once a round has acknowledged the commit index), then the member serving the read
 * waits until it has applied that index. Followers serve reads. Ratis' leader-lease reads stay off.
 * The option {@code embedded.reads=stale} reads the local member's state without that round trip:
 * faster, but it may miss writes acknowledged elsewhere.
 *
 * <h2>Threads</h2>
 *
 * Ratis' apply thread is the single writer of each member's engine; it never blocks on clients.
 * Client calls block the caller up to {@link io.libkv.store.Config#connectionTimeout()}; writes and
 * ReadIndex barriers from concurrent callers are batched (group commit).
 *
 * <h2>Errors</h2>
 *
 * Ratis' exceptions are mapped in one place ({@code RatisErrors}): no leader or no answer in time
 * is {@link io.libkv.store.NotReachableException} (for a write, the outcome is then unknown); a
 * malformed log entry is rejected by the state machine without changing state, never fatal. A call
 * that TLS keeps from the members is a {@link io.libkv.store.NotReachableException} saying "refused
 * by TLS" and why. A member whose data directory is damaged refuses to start with a {@link
 * io.libkv.store.StoreException} naming the directory and what is wrong.
 *
 * <h2>Security</h2>
 *
 * {@link io.libkv.store.Config#tlsFiles()} switches on mutual TLS for every connection (members and
 * stores present certificates of one CA; see {@code RaftTls}); an {@code SSLContext} is refused.
 * Directories the package creates are 0700 and its data files 0600 (POSIX).
 */
package io.libkv.raft;
