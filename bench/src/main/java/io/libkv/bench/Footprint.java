package io.libkv.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What a deployment occupies: the disk blocks of its data directory and the memory of the processes
 * holding the data (Linux {@code /proc}; {@code -1} where it cannot be read).
 *
 * @param diskBytes bytes allocated on disk under the data directory ({@code du -s -B1}; the sum of
 *     file sizes if {@code du} is missing)
 * @param rssBytes resident set size of the server processes, summed (this JVM's if none)
 * @param rssFileBytes the file-backed part of {@code rssBytes} (for LMDB: its memory-mapped pages)
 * @param heapBytes for data in this JVM: the Java heap in use after a full collection; else -1
 * @param where which processes {@code rssBytes} covers
 */
record Footprint(long diskBytes, long rssBytes, long rssFileBytes, long heapBytes, String where) {

  /**
   * The memory the data holds: for servers in their own processes their resident set; for data in
   * this JVM the heap in use after a collection plus the resident file-backed pages (the JVM's
   * resident set only grows with its committed heap, so it says little about the data).
   */
  long memoryBytes() {
    if (heapBytes < 0) {
      return rssBytes;
    }
    return rssFileBytes < 0 ? -1 : heapBytes + rssFileBytes;
  }

  /** Measures {@code d} now; in-process deployments are measured after a garbage collection. */
  static Footprint of(Deployment d) {
    List<Long> pids = d.serverPids();
    long disk = diskBytes(d.dataDir());
    if (pids.isEmpty()) {
      System.gc(); // the harness's own garbage is not the store's memory
      long self = ProcessHandle.current().pid();
      long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      return new Footprint(
          disk,
          status(self, "VmRSS:"),
          status(self, "RssFile:"),
          heap,
          "the harness JVM (data in process): heap in use after a full GC + resident file pages");
    }
    long rss = 0;
    long file = 0;
    for (long pid : pids) {
      long r = status(pid, "VmRSS:");
      long f = status(pid, "RssFile:");
      rss = r < 0 || rss < 0 ? -1 : rss + r;
      file = f < 0 || file < 0 ? -1 : file + f;
    }
    return new Footprint(
        disk, rss, file, -1, "resident set of " + pids.size() + " server process(es)");
  }

  /** A size field of {@code /proc/<pid>/status} in bytes ({@code VmRSS:}, ...), or -1. */
  static long status(long pid, String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith(field)) {
          String[] parts = line.substring(field.length()).trim().split("\\s+");
          return Long.parseLong(parts[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or the process is gone
    }
    return -1;
  }

  /** Bytes allocated under {@code dir}, or -1 if it cannot be measured. */
  static long diskBytes(Path dir) {
    try {
      Process p =
          new ProcessBuilder("du", "-s", "-B1", dir.toString()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) {
        return Long.parseLong(out.split("\\s+")[0]);
      }
    } catch (IOException | RuntimeException e) {
      // no du: fall back to file sizes
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .mapToLong(
              f -> {
                try {
                  return Files.size(f);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
