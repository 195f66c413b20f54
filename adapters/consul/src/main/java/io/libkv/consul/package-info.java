/**
 * {@link io.libkv.store.Backend#CONSUL}: a thin adapter of the Store contract onto a Consul agent's
 * HTTP API ({@code /v1/kv}, {@code /v1/txn}, {@code /v1/session}, {@code /v1/status/leader}), with
 * the JDK's {@link java.net.http.HttpClient} and Jackson. The only public type is {@link
 * io.libkv.consul.ConsulStoreProvider}.
 *
 * <h2>Configuration</h2>
 *
 * <ul>
 *   <li>Endpoints: {@code host:port} or {@code http(s)://host:port} of agents, tried in order when
 *       one refuses connections; {@code 127.0.0.1:8500} when empty. TLS from {@code
 *       Config.sslContext()} or {@code Config.tlsFiles()} (PEM; the key in PKCS#8); plain endpoints
 *       then default to {@code https}.
 *   <li>{@code Config.password()} is the ACL token, sent as {@code X-Consul-Token} (or as {@code
 *       Authorization: Bearer} with option {@code consul.tokenHeader=bearer}). {@code username},
 *       {@code bucket} and {@code persistConnection} are not used.
 *   <li>Options: {@code consul.datacenter} (the {@code dc} parameter), {@code consul.watchWait}
 *       (the {@code wait} of blocking queries, default 30s), {@code consul.lockDelay} (the {@code
 *       LockDelay} of lock sessions, default 1ms; Consul's default of 15 s would stall every
 *       hand-over of a lock). Unknown {@code consul.*} options are refused.
 * </ul>
 *
 * <h2>Mapping</h2>
 *
 * <ul>
 *   <li>{@code lastIndex} is Consul's {@code ModifyIndex} (a Raft index, comparable across keys).
 *   <li>Writes go through {@code PUT /v1/txn} so that they are checked and report their index: a
 *       plain {@code PUT /v1/kv} answers only {@code true}/{@code false}. {@code put} reads the
 *       key, then writes it in one transaction guarded by {@code check-index} (or {@code
 *       check-not-exists}), retried when a concurrent writer got in between: two round trips.
 *       {@code atomicPut} is the same with the caller's index; a failed check is told apart (key
 *       gone: {@code KeyNotFound}, other index: {@code KeyModified} with the actual index, present
 *       on create: {@code KeyExists}) by a read. {@code delete} is {@code get}+{@code delete} in
 *       one transaction (the {@code get} fails for a missing key); {@code atomicDelete} is {@code
 *       check-index}+{@code delete} ({@code DELETE ?cas=} would answer {@code true} for a missing
 *       key). {@code deleteTree(d)} is {@code delete-tree d/} + {@code delete d}.
 *   <li>{@code list(d)} is {@code GET /v1/kv/d/?recurse}, plus {@code GET /v1/kv/d} when that is
 *       empty, to tell an empty directory from a missing one. Keys ending in {@code /} (the folder
 *       markers Consul's UI creates) and keys under {@code __libkv/} are never listed; keys under
 *       {@code __libkv/} are reserved (refused with {@link IllegalArgumentException}).
 *   <li><b>TTL.</b> Consul KV has no per-key TTL. A put with a TTL creates a session with {@code
 *       Behavior=delete} and acquires the key with it ({@code lock} verb, {@code Flags} marking
 *       it); the session is never renewed, so Consul deletes the key when it invalidates the
 *       session. Consul documents a session TTL between 10 s and 86400 s and may take up to twice
 *       that TTL to invalidate, so the session TTL is half the requested TTL: TTLs under 20 s (or
 *       over 48 h) give {@link io.libkv.store.CallNotSupportedException}. The key then goes after
 *       between ttl/2 (Consul's documented lower bound) and ttl (the doubling Consul applies
 *       today); after a Consul leader election the session timers restart, and the key may outlive
 *       ttl + 1 s. A later put without TTL releases the key from the session (it stays); a put with
 *       a TTL on a key held by a lock is refused.
 *   <li><b>Watches</b> are blocking queries ({@code ?index=&wait=}) on the key, or on {@code d/}
 *       with {@code ?recurse}. The first event is the current state; a 404 after a pair is a
 *       deletion (value {@code null}, the 404's {@code X-Consul-Index}). Consul answers a blocking
 *       query with the latest state only, so changes between two answers are coalesced (a reader
 *       always sees the newest state, never an older one after it). The index is reset when it goes
 *       backwards and never below 1, as Consul's docs require. {@code close()} cancels the request
 *       in flight. Transport failures are retried; a watch whose agent has failed for longer than
 *       the connection timeout fails with the cause. {@code watch(key, afterIndex)} gives {@link
 *       io.libkv.store.CallNotSupportedException}: Consul keeps no history to replay.
 *   <li><b>Locks</b> (see {@code ConsulLocker}): a session with {@code Behavior=delete} and TTL
 *       max(10 s, ttl/2), renewed every third of it via {@code PUT /v1/session/renew}; waiters
 *       queue as {@code __libkv/locks/<key>/<session>} keys held by their sessions and are served
 *       in {@code CreateIndex} order (Consul's own lock is not fair). The holder writes {@code
 *       LockOptions.value} to the key; unlock or the store's close destroy the session, deleting
 *       the key and the queue entry. The fencing token is the lock key's {@code ModifyIndex} from
 *       the acquiring transaction. {@code lost()} completes when a renewal answers 404, when
 *       renewals fail for a whole session TTL, or when the key is deleted or held by another
 *       session. A holder whose renewal stops loses the lock within max(ttl, 20 s) plus Consul's
 *       reaping.
 * </ul>
 *
 * <h2>Threads and errors</h2>
 *
 * <p>A store is thread-safe. Watches and lock monitors use asynchronous requests and no thread of
 * their own; each store has one timer thread (renewals, retries), stopped by {@code close()}. Java
 * 17's HttpClient cannot be closed, so one client (threads {@code HttpClient-*}) is shared by all
 * stores with the same TLS context and connection timeout. Connection failures and timeouts give
 * {@link io.libkv.store.NotReachableException} within the connection timeout; HTTP errors give
 * {@link io.libkv.store.StoreException} with Consul's message (403: the ACL token; 413: value too
 * large gives {@link IllegalArgumentException}). The mapping lives in {@code ConsulHttp}. Consul's
 * own limits apply on top of {@code Config.maxValueBytes()}: a write's transaction body carries the
 * value in base64 and is limited by the agent's {@code txn_max_req_len} (512 KiB by default), so
 * values over about 380 KiB are refused with Consul's 413 message.
 */
package io.libkv.consul;
