package io.libkv.storage.lmdb;

import io.libkv.storage.engine.EngineOptions;
import io.libkv.storage.engine.KvEngine;
import io.libkv.storage.engine.LeaseReaper;
import io.libkv.storage.engine.OwnerOnly;
import io.libkv.storage.engine.SharedByDirectory;
import io.libkv.storage.engine.WatchHub;
import io.libkv.store.MonotonicClock;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Everything the stores of one data directory share in this JVM: the engine, its group-commit apply
 * thread, its watch hub and its lease reaper (always in charge). Reference counted.
 */
final class LmdbNode {
  private static final SharedByDirectory<LmdbNode> NODES =
      new SharedByDirectory<>("LMDB data directory");

  final Path dir;
  final KvEngine engine;
  final GroupCommitApplier applier;
  final WatchHub hub;
  final LeaseReaper reaper;

  private final FileChannel lockFile;
  private final FileLock processLock;

  private LmdbNode(Path dir, EngineOptions options, MonotonicClock clock) {
    this.dir = dir;
    String name = dir.getFileName() == null ? "root" : dir.getFileName().toString();
    FileChannel ch;
    FileLock lock;
    try {
      Path lockPath = dir.resolve("libkv.lock");
      boolean existed = Files.exists(lockPath);
      ch = FileChannel.open(lockPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      if (!existed) {
        OwnerOnly.restrictFile(lockPath);
      }
      try {
        lock = ch.tryLock();
      } catch (OverlappingFileLockException ex) {
        lock = null; // held elsewhere in this JVM (another class loader): in use all the same
      } catch (IOException | RuntimeException ex) {
        ch.close();
        throw ex;
      }
      if (lock == null) {
        ch.close();
        throw new IllegalStateException(
            "LMDB data directory " + dir + " is in use by another process (libkv.lock is held)");
      }
    } catch (IOException ex) {
      throw new StoreException("Cannot lock the LMDB data directory " + dir + ": " + ex, ex);
    }
    this.lockFile = ch;
    this.processLock = lock;
    KvEngine e;
    try {
      e = KvEngine.open(dir, options);
    } catch (RuntimeException ex) {
      unlock();
      throw ex;
    }
    GroupCommitApplier a = null;
    WatchHub h = null;
    try {
      a = new GroupCommitApplier(e, name);
      h = new WatchHub(e, name);
      LeaseReaper r = new LeaseReaper(e, a, clock, name);
      r.takeCharge();
      this.reaper = r;
    } catch (RuntimeException ex) {
      if (h != null) {
        h.close();
      }
      if (a != null) {
        a.close();
      }
      e.close();
      unlock();
      throw ex;
    }
    this.engine = e;
    this.applier = a;
    this.hub = h;
  }

  /** Returns the node of {@code dir}, opening it on first use, with one more reference. */
  static LmdbNode acquire(Path dir, EngineOptions options, MonotonicClock clock) {
    return NODES.acquire(NODES.realPath(dir), real -> new LmdbNode(real, options, clock), n -> {});
  }

  /** Releases one reference; the last stops the threads and closes the engine. */
  void release() {
    NODES.release(dir, this, LmdbNode::stop);
  }

  private void stop() {
    reaper.close();
    applier.close();
    hub.close();
    engine.close();
    unlock();
  }

  private void unlock() {
    try {
      processLock.release();
      lockFile.close();
    } catch (IOException e) {
      // Closing the channel releases the lock in any case.
    }
  }
}
