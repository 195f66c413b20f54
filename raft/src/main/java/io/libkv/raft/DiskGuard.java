package io.libkv.raft;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member's low-disk and data-size check, asked by the leader's {@link
 * KvStateMachine#startTransaction} before an entry that adds data reaches the log ({@code
 * embedded.minFreeDiskBytes}, {@code embedded.maxDataBytes}). Admission is the only place such a
 * limit may act: a committed entry must apply identically on every member, so applying never checks
 * space.
 *
 * <p>The data size is the leader's live data (LMDB pages of keys, values and leases, {@link
 * io.libkv.storage.engine.KvEngine#liveDataBytes}), read on the same schedule as the free space,
 * with twice the bytes admitted since added to it (so the cap is kept to within about one entry).
 *
 * <p>Cheap on the hot path: the usable space of the file systems holding {@code raft/} and {@code
 * kv/} (one {@code statvfs} each) is read at most every {@value #REFRESH_MILLIS} ms; in between,
 * twice the bytes admitted since the last reading (the log, then the data) are subtracted from it,
 * and the space is read again as soon as that estimate drops under the minimum, so a low disk is
 * seen within one entry and freed space at the next write. Thread-safe.
 */
final class DiskGuard {
  private static final Logger LOG = LoggerFactory.getLogger(DiskGuard.class);

  /** The default of {@code embedded.minFreeDiskBytes}: 256 MiB. */
  static final long DEFAULT_MIN_FREE_BYTES = 256L << 20;

  static final long REFRESH_MILLIS = 100;

  /**
   * Test hook: when set, the usable bytes of a directory come from this function instead of its
   * file system (tests simulate a full disk on one member with it). {@code null} in production.
   */
  static volatile ToLongFunction<Path> simulatedUsableBytes;

  /** A guard that never refuses. */
  static final DiskGuard OFF = new DiskGuard("?", List.of(), 0, 0, () -> 0);

  private final String member;
  private final List<Path> dirs;
  private final List<FileStore> stores = new ArrayList<>();
  private final List<Path> storeDirs = new ArrayList<>();
  private final long minFreeBytes;
  private final long maxDataBytes;
  private final LongSupplier dataBytes;

  // Guarded by this.
  private long probedAtNanos;
  private boolean probed;
  private long usable;
  private Path lowestDir;
  private long admittedSinceProbe;
  private long data;
  private boolean probeFailureLogged;

  /**
   * @param member the member's id, for messages
   * @param dirs the directories whose file systems must keep room ({@code raft/}, {@code kv/});
   *     they must exist
   * @param minFreeBytes the least usable space to keep; 0 switches the check off
   * @param maxDataBytes the most live data to hold; 0 switches the check off
   * @param dataBytes reads the live data's size (called only when {@code maxDataBytes > 0})
   */
  DiskGuard(
      String member,
      List<Path> dirs,
      long minFreeBytes,
      long maxDataBytes,
      LongSupplier dataBytes) {
    this.member = member;
    this.dirs = List.copyOf(dirs);
    this.minFreeBytes = minFreeBytes;
    this.maxDataBytes = maxDataBytes;
    this.dataBytes = dataBytes;
    for (Path d : this.dirs) {
      try {
        FileStore s = Files.getFileStore(d);
        if (!stores.contains(s)) {
          stores.add(s);
          storeDirs.add(d);
        }
      } catch (IOException e) {
        LOG.warn("member {}: cannot find the file system of {}: {}", member, d, e.toString());
      }
    }
  }

  /**
   * Returns {@code null} when an entry of {@code bytes} may be admitted (and counts it), or the
   * message to refuse it with when the disk is low or the data at its limit.
   */
  synchronized String shortage(long bytes) {
    if (minFreeBytes <= 0 && maxDataBytes <= 0) {
      return null;
    }
    long now = System.nanoTime();
    if (!probed
        || now - probedAtNanos > TimeUnit.MILLISECONDS.toNanos(REFRESH_MILLIS)
        || low()
        || full()) {
      probe(now);
    }
    if (low()) {
      return lowMessage();
    }
    if (full()) {
      return fullMessage();
    }
    admittedSinceProbe += Math.max(0, bytes);
    return null;
  }

  private boolean low() {
    return minFreeBytes > 0 && estimate() < minFreeBytes;
  }

  private boolean full() {
    // Twice the admitted bytes (LMDB pages hold values with overhead): an estimate over the cap
    // only makes the guard read the real size again, one under it would let the data overshoot.
    return maxDataBytes > 0
        && data + 2 * Math.min(admittedSinceProbe, Long.MAX_VALUE / 4) >= maxDataBytes;
  }

  private long estimate() {
    long used = admittedSinceProbe > Long.MAX_VALUE / 4 ? Long.MAX_VALUE / 2 : admittedSinceProbe;
    return usable - 2 * used;
  }

  private void probe(long now) {
    if (maxDataBytes > 0) {
      try {
        data = dataBytes.getAsLong();
      } catch (RuntimeException e) {
        LOG.warn("member {}: cannot measure its data (not checked): {}", member, e.toString());
        data = 0;
      }
    }
    if (minFreeBytes <= 0) {
      usable = Long.MAX_VALUE;
      probedAtNanos = now;
      probed = true;
      admittedSinceProbe = 0;
      return;
    }
    long least = Long.MAX_VALUE;
    Path at = null;
    ToLongFunction<Path> sim = simulatedUsableBytes;
    if (sim != null) {
      for (Path d : dirs) {
        long u = sim.applyAsLong(d);
        if (u < least) {
          least = u;
          at = d;
        }
      }
    } else {
      for (int i = 0; i < stores.size(); i++) {
        try {
          long u = stores.get(i).getUsableSpace();
          if (u < least) {
            least = u;
            at = storeDirs.get(i);
          }
        } catch (IOException | RuntimeException e) {
          if (!probeFailureLogged) {
            probeFailureLogged = true;
            LOG.warn(
                "member {}: cannot read the free space of {} (not checked): {}",
                member,
                storeDirs.get(i),
                e.toString());
          }
        }
      }
    }
    usable = least;
    lowestDir = at;
    probedAtNanos = now;
    probed = true;
    admittedSinceProbe = 0;
  }

  private String fullMessage() {
    return "member "
        + member
        + " holds "
        + data
        + " bytes of data, at its limit embedded.maxDataBytes="
        + maxDataBytes
        + "; writes that add data are refused until keys are deleted (or the limit is raised);"
        + " reads, deletes and lock renewals still work";
  }

  private String lowMessage() {
    return "member "
        + member
        + " is low on disk space: "
        + usable
        + " bytes usable in "
        + lowestDir
        + ", under embedded.minFreeDiskBytes="
        + minFreeBytes
        + "; writes that add data are refused until space is freed (delete keys or free disk"
        + " space); reads, deletes and lock renewals still work";
  }
}
