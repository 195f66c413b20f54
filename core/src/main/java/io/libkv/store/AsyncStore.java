package io.libkv.store;

import java.util.concurrent.CompletableFuture;

/**
 * A {@link Store} whose writes can be pipelined: each write call returns at once with a future, so
 * one thread can keep many writes in flight and a replicated backend can put them into few log
 * entries. Backends that can do this return stores implementing this interface; test with {@code
 * store instanceof AsyncStore}.
 *
 * <p><b>Same contract as the blocking calls.</b> Each method behaves exactly like its blocking
 * namesake in {@link Store}: same key rules, same indices, same exceptions. Invalid arguments are
 * thrown at once as {@link IllegalArgumentException} and nothing is submitted; every other failure
 * completes the future exceptionally with the {@link StoreException} the blocking call would have
 * thrown (so {@link CompletableFuture#join()} wraps it in a {@link
 * java.util.concurrent.CompletionException} whose cause is that exception).
 *
 * <p><b>Order.</b> Writes issued through one store are applied in the order the calls were made,
 * among those that succeed. A write whose future completed exceptionally with a {@link
 * NotReachableException} may or may not have been applied, as with the blocking calls.
 *
 * <p><b>Back-pressure.</b> A backend may bound the writes one store holds queued or in flight
 * (EMBEDDED: 64 MiB of encoded writes). A call made while the bound is reached blocks until there
 * is room, at most {@link Config#connectionTimeout()}, then returns a future failed with a {@link
 * StoreException} saying so; nothing of that write was submitted.
 *
 * <p><b>Threads.</b> Futures complete on the backend's threads: callbacks chained with the
 * non-{@code Async} methods of {@link CompletableFuture} run there and must not block. A future
 * completes at the latest after {@link Config#connectionTimeout()} plus the backend's request
 * timeout; {@link #close()} fails every write still pending.
 */
public interface AsyncStore extends Store {

  /**
   * Pipelined {@link #put}: completes with the stored pair and the index of this write.
   *
   * @param options TTL and directory flag; {@code null} for none
   * @throws IllegalArgumentException if the key or value breaks a limit
   */
  CompletableFuture<KVPair> putAsync(String key, byte[] value, WriteOptions options);

  /**
   * Pipelined {@link #delete}: completes once the key is deleted, or exceptionally with {@link
   * KeyNotFoundException}.
   */
  CompletableFuture<Void> deleteAsync(String key);

  /**
   * Pipelined {@link #atomicPut}: completes with the new pair, or exceptionally with {@link
   * KeyExistsException}, {@link KeyModifiedException} or {@link KeyNotFoundException} as the
   * blocking call would throw.
   *
   * @param previous {@code null} to create the key; otherwise the pair last read
   */
  CompletableFuture<KVPair> atomicPutAsync(
      String key, byte[] value, KVPair previous, WriteOptions options);

  /**
   * Pipelined {@link #atomicDelete}: completes with {@code true}, or exceptionally with {@link
   * KeyModifiedException} or {@link KeyNotFoundException}.
   *
   * @throws PreviousNotSpecifiedException at once if {@code previous} is {@code null}
   */
  CompletableFuture<Boolean> atomicDeleteAsync(String key, KVPair previous);
}
