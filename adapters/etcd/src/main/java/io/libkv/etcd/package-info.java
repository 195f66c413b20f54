/**
 * {@link io.libkv.store.Backend#ETCD}: the libkv Store contract over etcd's v3 API, through jetcd
 * (gRPC over Netty 4.2). Open it with {@code LibKV.newStore(Backend.ETCD, endpoints, config)};
 * {@link io.libkv.etcd.EtcdStoreProvider} is the only public type.
 *
 * <h2>Mapping</h2>
 *
 * <ul>
 *   <li>{@code lastIndex} is the key's {@code mod_revision} (cluster-wide, grows with every write).
 *   <li>{@code get}, {@code exists}, {@code list}: linearizable ranges (etcd's default, not
 *       serializable reads). {@code list(dir)} is one read-only transaction over the prefix {@code
 *       dir/} and the key {@code dir}, sorted by key in UTF-8 byte order.
 *   <li>{@code put}: a plain put; etcd is flat, so there are no parents to create and {@code
 *       WriteOptions.isDir} changes nothing.
 *   <li>{@code atomicPut}/{@code atomicDelete}: a transaction comparing {@code mod_revision} (or
 *       {@code create_revision == 0} to create); on failure its else-branch reads the key, so
 *       {@link io.libkv.store.KeyModifiedException} carries the actual index.
 *   <li>{@code deleteTree(dir)}: one transaction deleting {@code dir} and the prefix {@code dir/}.
 *   <li>TTL: a lease of whole seconds, rounded up (at least 1 s); etcd itself raises a lease to its
 *       minimum TTL (1.5 &times; the election timeout, rounded up: 2 s with etcd's default timing)
 *       and expires leases within about 0.5 s of their end.
 *   <li>{@code watch(key)}: a read, then an etcd watch from the next revision, so no change falls
 *       in the gap. {@code watch(key, afterIndex)} starts the etcd watch at {@code afterIndex + 1};
 *       if that revision was compacted away it throws {@link
 *       io.libkv.store.HistoryCompactedException} naming the oldest revision kept. A broken watch
 *       is resumed from the revision after the last delivered event; if it cannot be resumed within
 *       the connection timeout, {@code poll}/{@code take} throw {@link
 *       io.libkv.store.NotReachableException}.
 *   <li>{@code watchTree(dir)}: a read of the prefix, then a prefix watch from the next revision;
 *       the whole sorted list is delivered after each batch of events.
 *   <li>Locks: etcd's mutex recipe on a lease (see {@code EtcdLocker}); the waiter queue lives
 *       under the internal prefix {@code "\u0000libkv/locks/"}, which starts with NUL and so can
 *       never be reached by a user key, list, watch or deleteTree. The fencing token is the
 *       holder's create revision. The lease is renewed every third of its TTL.
 * </ul>
 *
 * <h2>Threads</h2>
 *
 * A store is thread-safe. Calls block the caller for at most the connection timeout per etcd
 * request; each unary request also carries that timeout as its gRPC deadline, so a request the
 * caller was told failed is never sent later. Each store owns one scheduler thread (watch
 * resumption, lease renewal) and jetcd's gRPC/Netty and Vert.x threads; {@code close()} stops them
 * all.
 *
 * <h2>Errors</h2>
 *
 * jetcd and gRPC errors are mapped in one place ({@code EtcdErrors}): unavailable servers and
 * missed deadlines become {@link io.libkv.store.NotReachableException}; refused credentials a
 * {@link io.libkv.store.StoreException} naming the user; every other failure a {@link
 * io.libkv.store.StoreException} naming the call and key, with etcd's message.
 */
package io.libkv.etcd;
