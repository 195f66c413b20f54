package io.libkv.raft;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member's low-disk check, asked by the leader's {@link KvStateMachine#startTransaction} before
 * an entry that adds data reaches the log ({@code embedded.minFreeDiskBytes}). Admission is the
 * only place a disk limit may act: a committed entry must apply identically on every member, so
 * applying never checks space.
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
  static final DiskGuard OFF = new DiskGuard("?", List.of(), 0);

  private final String member;
  private final List<Path> dirs;
  private final List<FileStore> stores = new ArrayList<>();
  private final List<Path> storeDirs = new ArrayList<>();
  private final long minFreeBytes;

  // Guarded by this.
  private long probedAtNanos;
  private boolean probed;
  private long usable;
  private Path lowestDir;
  private long admittedSinceProbe;
  private boolean probeFailureLogged;

  /**
   * @param member the member's id, for messages
   * @param dirs the directories whose file systems must keep room ({@code raft/}, {@code kv/});
   *     they must exist
   * @param minFreeBytes the least usable space to keep; 0 switches the check off
   */
  DiskGuard(String member, List<Path> dirs, long minFreeBytes) {
    this.member = member;
    this.dirs = List.copyOf(dirs);
    this.minFreeBytes = minFreeBytes;
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

  long minFreeBytes() {
    return minFreeBytes;
  }

  /**
   * Returns {@code null} when an entry of {@code bytes} may be admitted (and counts it), or the
   * message to refuse it with when the disk is low.
   */
  synchronized String shortage(long bytes) {
    if (minFreeBytes <= 0) {
      return null;
    }
    long now = System.nanoTime();
    if (!probed
        || now - probedAtNanos > TimeUnit.MILLISECONDS.toNanos(REFRESH_MILLIS)
        || estimate() < minFreeBytes) {
      probe(now);
    }
    if (estimate() < minFreeBytes) {
      return message();
    }
    admittedSinceProbe += Math.max(0, bytes);
    return null;
  }

  private long estimate() {
    long used = admittedSinceProbe > Long.MAX_VALUE / 4 ? Long.MAX_VALUE / 2 : admittedSinceProbe;
    return usable - 2 * used;
  }

  private void probe(long now) {
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

  private String message() {
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
