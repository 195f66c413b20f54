package io.libkv.storage.engine;

import io.libkv.store.StoreException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One instance per data directory in this process, shared by reference count: the first {@link
 * #acquire} of a directory opens its instance, later ones share it, and the {@link #release} of the
 * last reference retires it. Directories are told apart by their real path, so two spellings of one
 * directory share one instance (LMDB must not open one environment twice in a process, and two Raft
 * members must not run on one log).
 *
 * <p>Opening, and the closing a caller asks to run on the last release, happen under the registry's
 * lock: an acquire of a directory whose instance is being closed waits until it is closed, then
 * opens a new one.
 *
 * <p>Thread-safe.
 *
 * @param <T> what is shared: an engine, a local store's node, a member
 */
public final class SharedByDirectory<T> {
  private static final class Entry<T> {
    final T value;
    int refs;

    Entry(T value) {
      this.value = value;
    }
  }

  private final String what;
  private final Map<Path, Entry<T>> open = new HashMap<>();

  /**
   * @param what names the directories, for messages ("LMDB data directory")
   */
  public SharedByDirectory(String what) {
    this.what = Objects.requireNonNull(what, "what");
  }

  /**
   * Returns {@code dir}'s real path, creating it (readable by its owner only) if it is missing.
   *
   * @throws StoreException if it cannot be created or resolved
   */
  public Path realPath(Path dir) {
    try {
      OwnerOnly.createDirectories(dir);
      return dir.toRealPath();
    } catch (IOException e) {
      throw new StoreException("Cannot create the " + what + " " + dir + ": " + e, e);
    }
  }

  /**
   * Returns the instance of {@code realDir} (a path from {@link #realPath}) with one more
   * reference: the open one, after {@code reuse} has accepted it, or a new one from {@code open}.
   *
   * @param open opens the directory's instance; what it throws reaches the caller, and nothing is
   *     registered
   * @param reuse checks the open instance against the caller's wishes; throws to refuse it (no
   *     reference is then taken)
   */
  public T acquire(Path realDir, Function<Path, T> open, Consumer<T> reuse) {
    synchronized (this.open) {
      Entry<T> e = this.open.get(realDir);
      if (e == null) {
        e = new Entry<>(Objects.requireNonNull(open.apply(realDir), "opened nothing"));
        this.open.put(realDir, e);
      } else {
        reuse.accept(e.value);
      }
      e.refs++;
      return e.value;
    }
  }

  /**
   * Releases one reference to {@code instance}, the instance of {@code realDir}. On the last, the
   * directory has no instance any more and {@code closeLast} runs on it, under the registry's lock.
   * Releasing an instance that is no longer the directory's (released already) does nothing.
   *
   * @return whether this was the last reference
   */
  public boolean release(Path realDir, T instance, Consumer<T> closeLast) {
    synchronized (open) {
      Entry<T> e = open.get(realDir);
      if (e == null || e.value != instance) {
        return false;
      }
      if (--e.refs > 0) {
        return false;
      }
      open.remove(realDir);
      closeLast.accept(instance);
      return true;
    }
  }

  /** How many references {@code realDir}'s instance has (0 without one). */
  public int references(Path realDir) {
    synchronized (open) {
      Entry<T> e = open.get(realDir);
      return e == null ? 0 : e.refs;
    }
  }
}
