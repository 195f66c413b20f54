/**
 * Internal SPI for libkv modules (not for applications): the LMDB key-value engine and the layers
 * that turn it into a {@link io.libkv.store.Store}. Used by this module's {@code Backend.LMDB} and
 * by the embedded Raft backend ({@code libkv-raft}). Source compatibility is kept only between
 * modules of the same libkv release.
 *
 * <h2>Layers</h2>
 *
 * <ol>
 *   <li>{@link io.libkv.storage.engine.KvEngine}: LMDB storage. {@code apply(appliedIndex,
 *       firstRevision, commands)} applies a batch of {@link io.libkv.storage.engine.Command}s in
 *       one write transaction and returns one {@link io.libkv.storage.engine.CommandResult} per
 *       command; {@code read(fn)} reads a consistent snapshot; {@link
 *       io.libkv.storage.engine.ApplyListener}s hear about every commit; {@code snapshotTo}/{@code
 *       restoreFrom} copy and replace the environment. {@link io.libkv.storage.engine.CommandCodec}
 *       encodes commands and results for a log.
 *   <li>{@link io.libkv.storage.engine.EngineStore}: every {@code Store} semantic (key checks,
 *       atomic operations, TTL, watches, locks), and the pipelined writes of {@link
 *       io.libkv.store.AsyncStore}, written once over three pieces a backend supplies: a {@link
 *       io.libkv.storage.engine.CommandSubmitter} (the write path), a {@link
 *       io.libkv.storage.engine.KvReader} (the read path) and a {@link
 *       io.libkv.storage.engine.WatchHub} (the change fan-out of one engine). A {@link
 *       io.libkv.storage.engine.LeaseReaper} expires leases by submitting revoke commands, where it
 *       is in charge.
 * </ol>
 *
 * <h2>Writes</h2>
 *
 * Every key/value write of an {@code EngineStore} is submitted on the caller's thread before the
 * call returns, so writes through one store reach the submitter, and the engine, in call order; the
 * blocking calls wait for their async form. A submitter must keep that order (the LMDB applier's
 * queue and the Raft channel's ordered client do).
 *
 * <h2>Watches</h2>
 *
 * With a local engine, the {@code WatchHub} owns an Agrona broadcast buffer whose single writer is
 * the apply thread (an {@link io.libkv.storage.engine.ApplyListener}): each committed batch's
 * changes go in, then an end-of-batch marker. Key and tree watches are receivers of that buffer,
 * read in place on the thread that polls them, so a watcher that stops reading costs writers
 * nothing; a lapped receiver (or one that sees a restore) resyncs from the engine: the current
 * state, coalesced, in index order. The hub thread reads the buffer only to unpark watchers parked
 * on a changed key or directory, and feeds lock waits from the engine's revision history. Without a
 * local engine (a client-only Raft store) the hub polls a {@code KvReader}'s history and feeds
 * watch queues instead.
 *
 * <h2>Wiring for the embedded Raft backend</h2>
 *
 * <pre>{@code
 * KvEngine engine = KvEngine.open(dataDir.resolve("kv"), EngineOptions.defaults());
 * // state machine applyTransaction(entry):
 * List<Command> cmds = CommandCodec.decodeCommands(entryBytes);          // reject on exception
 * List<CommandResult> res = engine.apply(index, index << 16, cmds);      // skips re-applies
 * reply(CommandCodec.encodeResults(res));
 * // node wiring:
 * WatchHub hub = new WatchHub(engine, "node-1");                         // one per engine
 * // (a store with no local engine: new WatchHub(remoteReader, "client", pollInterval))
 * CommandSubmitter submitter = cmd -> proposeThroughRatis(cmd);          // completes with result
 * KvReader reader = new KvReader() { public <T> T read(Function<ReadView, T> fn) {
 *     awaitReadIndex(); return engine.read(fn); } };                     // linearizable reads
 * LeaseReaper reaper = new LeaseReaper(engine, submitter, config.clock(), "node-1");
 * reaper.takeCharge();  // on becoming leader;   reaper.resign(); on losing it
 * Store store = new EngineStore("embedded", submitter, reader, hub, config, closed -> {});
 * }</pre>
 *
 * <h2>Threads</h2>
 *
 * {@code KvEngine.apply} and {@code restoreFrom} have a single caller, the apply thread, which
 * takes no lock; reads may run on any thread. Listeners run on the apply thread and must not block
 * (the hub's copies changes into its broadcast buffer and never waits). The hub, the reaper and the
 * LMDB backend's applier each own one thread, stopped by {@code close()}. Futures of async writes
 * complete on the submitter's threads (the LMDB apply thread, Ratis' client threads).
 *
 * <h2>Errors</h2>
 *
 * Domain errors of commands are values ({@link io.libkv.storage.engine.CommandResult}); {@code
 * EngineStore} turns them into the {@code io.libkv.store} exceptions. LMDB failures are {@link
 * io.libkv.store.StoreException}s naming the data directory; malformed encodings are {@link
 * io.libkv.storage.engine.MalformedCommandException}s; a watch resuming before the bounded history
 * gets {@link io.libkv.store.HistoryCompactedException}. Async writes throw argument errors at once
 * and complete every other failure exceptionally with the exception the blocking call throws;
 * {@code close()} fails writes still pending with a {@link io.libkv.store.StoreException}.
 */
package io.libkv.storage.engine;
