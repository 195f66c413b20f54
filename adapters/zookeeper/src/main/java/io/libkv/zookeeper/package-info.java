/**
 * {@link io.libkv.store.Backend#ZK}: the Store contract over ZooKeeper 3.9 through Apache Curator
 * (module {@code libkv-zookeeper}); the public entry is {@link io.libkv.zookeeper.ZkStoreProvider},
 * everything else is package-private.
 *
 * <h2>Mapping</h2>
 *
 * <ul>
 *   <li><b>Keys</b>: key {@code a/b} is the znode {@code /<bucket>/a/b}; the root is {@code /libkv}
 *       unless {@code Config.bucket} names another. Missing parents are created as <em>directory
 *       znodes</em> holding {@code null} data (ZooKeeper tells {@code null} from an empty array):
 *       they parent keys but store nothing, so {@code get}/{@code exists} report them absent and
 *       {@code list} leaves them out. A stored empty value is an empty array.
 *   <li><b>lastIndex</b> is the znode's {@code mzxid}, the zxid of the transaction that last wrote
 *       it: cluster-wide, comparable across keys.
 *   <li><b>put</b>: create (with parents) or {@code setData}; a TTL fixed at creation that differs
 *       from the wanted one (including none) replaces the znode in one {@code multi} (delete +
 *       create).
 *   <li><b>delete</b> deletes the znode and prunes directory znodes it leaves empty; a key that has
 *       children cannot be deleted in ZooKeeper, so its data becomes {@code null} (a directory) and
 *       the descendants stay.
 *   <li><b>atomicPut/atomicDelete</b> read the znode, compare its {@code mzxid} with {@code
 *       previous.lastIndex()}, then write conditionally on the znode version read with it, so a
 *       write in between fails the operation ({@code KeyModifiedException} with the stored index).
 *       A create uses ZooKeeper's create ({@code KeyExistsException}). Known limit: a delete and
 *       re-create of the key bringing the new znode to the same version between the read and the
 *       write is not detected (ZooKeeper has no check on mzxid).
 *   <li><b>list</b> walks the subtree level by level with pipelined reads; it is not a snapshot
 *       under concurrent writes. <b>deleteTree</b> deletes children first, in {@code multi}
 *       batches; it is not atomic either.
 *   <li><b>TTL</b>: {@code PERSISTENT_WITH_TTL} znodes, which the server accepts only when started
 *       with {@code -Dzookeeper.extendedTypesEnabled=true} (otherwise {@code put} with a TTL throws
 *       {@code CallNotSupportedException} naming the setting). The server deletes an expired TTL
 *       znode on its container check, every {@code znode.container.checkIntervalMs} (default 60 s):
 *       the TTL is honoured within ttl + that interval, so servers that need ttl + 1 s must set it
 *       to at most 1000 ms. A TTL znode that has children is not deleted until they are.
 *   <li><b>Reads</b> ({@code get}, {@code exists}, {@code list}, the check of {@code watch(key,
 *       afterIndex)}) call {@code sync} first, so they see every write acknowledged before they
 *       started (ZooKeeper's "sync + read"; plain ZooKeeper reads may be stale on a follower). The
 *       option {@code zk.syncReads=false} turns this off. Compare-and-set writes are linearizable
 *       regardless.
 * </ul>
 *
 * <h2>Watches</h2>
 *
 * ZooKeeper persistent watches ({@code addWatch}, recursive for trees) fire once per change without
 * re-registration. A notification carries no data, so each is followed by a read that may see a
 * later state: changes in quick succession can show as one event, never an older state after a
 * newer one. A deletion event carries the deleting zxid from the notification (the nearest
 * ancestor's {@code pzxid} when a server does not send it). {@code watch(key, afterIndex)} works
 * only when the key (or, if absent, its nearest existing ancestor's child list) has not changed
 * after {@code afterIndex}; otherwise ZooKeeper, which keeps no history, cannot replay the changes,
 * and the call throws {@code CallNotSupportedException}. A watch whose connection is down for
 * longer than {@code Config.connectionTimeout}, or whose session expired, fails with {@code
 * NotReachableException}; after a shorter outage it re-reads its state.
 *
 * <h2>Locks</h2>
 *
 * Ephemeral sequential znodes in a queue under {@code /<bucket>.locks/<key>} (outside the user
 * tree, so never listed); the lowest sequence holds, each waiter watches only its predecessor
 * (arrival order, no herd). Each acquisition has its own ZooKeeper session whose timeout is {@code
 * LockOptions.ttl}: ZooKeeper's heartbeats renew it, and a holder that stops loses the lock when
 * the session expires. The server bounds session timeouts by its {@code minSessionTimeout} and
 * {@code maxSessionTimeout} (2 and 20 x tickTime by default): a ttl under the minimum is refused
 * with {@code CallNotSupportedException}; one over the maximum is lowered, which only shortens the
 * time a stopped holder keeps the lock. When {@code stopRenewal} completes the session is closed
 * after ttl. While held, the lock's key holds {@code LockOptions.value} as an ephemeral znode of
 * that session (a key with children keeps a persistent value instead). The fencing token is the
 * queue node's {@code czxid}. {@code lost()} completes on unlock, close, session expiry (or a
 * connection down for longer than the session timeout), and deletion of the queue node.
 *
 * <h2>Connection, auth, options</h2>
 *
 * All endpoints form Curator's connect string; the client uses ZooKeeper's Netty socket. Calls
 * retry ZooKeeper's retryable errors until {@code Config.connectionTimeout} has passed, then throw
 * {@code NotReachableException}. With {@code Config.username}/{@code password} the client adds
 * digest credentials and creates every znode with the creator-only ACL; wrong credentials are
 * refused at open with a {@code StoreException} naming the refused znode and user. Values travel in
 * one ZooKeeper packet: servers must run with {@code -Djute.maxbuffer} above {@code
 * Config.maxValueBytes} plus a few KiB (the server default, 1048575 bytes, is just under the
 * default 1 MiB limit). <b>TLS</b> from {@code Config.tlsFiles} (PEM): the client certificate and
 * PKCS#8 key are joined into a private temporary file (ZooKeeper's PEM key store holds both), the
 * CA file is the trust store (the JDK's when absent), and server host names are verified; the
 * servers need a {@code secureClientPort} on the Netty connection factory. An {@code SSLContext}
 * cannot be handed to ZooKeeper's client and gives {@code CallNotSupportedException}. When no
 * server answers at open, the store makes one TLS handshake per server itself, so that the {@code
 * NotReachableException} names a refused handshake (missing or untrusted certificate) or, without
 * TLS configured, a server that speaks TLS. Options: {@code zk.sessionTimeoutMs} (the store's
 * session, default 30000), {@code zk.syncReads} (default true). {@code Config.persistConnection} is
 * implied: the session stays open until close.
 *
 * <h2>Threads and errors</h2>
 *
 * A store is thread-safe. Each store runs Curator's and ZooKeeper's threads plus one watch thread;
 * each held lock its own session's threads. Errors are mapped in one place ({@code ZkErrors}):
 * {@code NONODE} to {@code KeyNotFoundException}, {@code NODEEXISTS} to {@code KeyExistsException},
 * connection loss beyond the timeout to {@code NotReachableException}, {@code NOAUTH} to a {@code
 * StoreException} naming the user and znode, everything else to a {@code StoreException} with the
 * ZooKeeper code.
 */
package io.libkv.zookeeper;
