package io.libkv.micrometer;

import io.libkv.store.AsyncStore;
import io.libkv.store.Store;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Objects;

/**
 * Wraps a {@link Store} so that every call is timed in a Micrometer {@link MeterRegistry}:
 *
 * <pre>{@code
 * Store store = MeteredStore.wrap(LibKV.newStore(Backend.ETCD, endpoints, config), registry, "etcd");
 * }</pre>
 *
 * <p><b>What is recorded.</b> One {@link io.micrometer.core.instrument.Timer} named {@value #CALLS}
 * with three tags: {@value #BACKEND_TAG} (the name given to {@code wrap}), {@value #OPERATION_TAG}
 * (the method: {@code put}, {@code get}, {@code delete}, {@code exists}, {@code list}, {@code
 * deleteTree}, {@code atomicPut}, {@code atomicDelete}, {@code watch} (both overloads), {@code
 * watchTree}, {@code newLock}, {@code close}; of an {@link AsyncStore}, {@code putAsync}, {@code
 * deleteAsync}, {@code atomicPutAsync}, {@code atomicDeleteAsync}; and of the lockers {@code
 * newLock} returns, {@code lock} (the wait for the lock included) and {@code unlock}) and {@value
 * #OUTCOME_TAG} ({@value #SUCCESS}, or the simple class name of what the call threw, such as {@code
 * KeyNotFoundException}; a future's failure is named by its cause, not its {@code
 * CompletionException}). A pipelined call is timed from the call to the completion of its future.
 * Reading a {@link io.libkv.store.Watch} and a lock's {@code lost()} future are not timed. The
 * success timers of every operation are registered at once, so each shows with a count of 0 before
 * its first call; a failure timer appears with its first failure. Durations come from the
 * registry's clock.
 *
 * <p><b>Faithful.</b> The wrapped store behaves exactly like the store it wraps: same results, same
 * exceptions (the very instances), same futures (the caller gets the delegate's own future; the
 * time is recorded by a callback on it). It implements {@link AsyncStore} exactly when the wrapped
 * store does. Closing it closes the wrapped store.
 *
 * <p><b>Threads.</b> The wrapper adds no lock and no thread; it is as thread-safe as the store it
 * wraps. Several stores may be wrapped with the same registry and backend name: their calls are
 * recorded in the same timers.
 */
public final class MeteredStore {
  /** The name of the timer of store calls. */
  public static final String CALLS = "libkv.store.calls";

  /** The tag naming the backend, as given to {@code wrap}. */
  public static final String BACKEND_TAG = "backend";

  /** The tag naming the method called. */
  public static final String OPERATION_TAG = "operation";

  /** The tag naming how the call ended: {@value #SUCCESS} or the simple name of what it threw. */
  public static final String OUTCOME_TAG = "outcome";

  /** The outcome of a call that returned normally (or whose future completed normally). */
  public static final String SUCCESS = "success";

  private MeteredStore() {}

  /**
   * Returns {@code store} with every call timed in {@code registry} under the {@value #BACKEND_TAG}
   * tag {@code backend}. The result implements {@link AsyncStore} if {@code store} does.
   *
   * @param backend the backend's name for the tag, e.g. {@code "etcd"} or {@code "embedded"}
   * @throws NullPointerException if an argument is {@code null}
   * @throws IllegalArgumentException if {@code backend} is blank
   */
  public static Store wrap(Store store, MeterRegistry registry, String backend) {
    Objects.requireNonNull(store, "store");
    if (store instanceof AsyncStore async) {
      return wrap(async, registry, backend);
    }
    return new TimedStore(store, timers(registry, backend));
  }

  /**
   * Returns {@code store} with every call, blocking or pipelined, timed in {@code registry} under
   * the {@value #BACKEND_TAG} tag {@code backend}.
   *
   * @param backend the backend's name for the tag, e.g. {@code "embedded"}
   * @throws NullPointerException if an argument is {@code null}
   * @throws IllegalArgumentException if {@code backend} is blank
   */
  public static AsyncStore wrap(AsyncStore store, MeterRegistry registry, String backend) {
    Objects.requireNonNull(store, "store");
    return new TimedAsyncStore(store, timers(registry, backend));
  }

  private static CallTimers timers(MeterRegistry registry, String backend) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(backend, "backend");
    if (backend.isBlank()) {
      throw new IllegalArgumentException(
          "backend name for the " + BACKEND_TAG + " tag is blank; pass e.g. \"etcd\"");
    }
    return new CallTimers(registry, backend);
  }
}
