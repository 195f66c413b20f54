package io.libkv.jepsen;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The power-loss simulation behind the {@code crash} nemesis. A node process runs with the {@code
 * crashsim} LD_PRELOAD library (its C source is a resource of this package, compiled per run with
 * {@code cc}), which journals, before a write to a file under the node's data directory destroys
 * bytes the file held at its last fsync, those bytes (once per 4 KiB block between syncs) and the
 * file's size at that sync, and forgets a file's journal when the file is fsynced. After kill -9,
 * {@link #rollBack} applies the journals backwards: every file is as it was at its last fsync, the
 * worst case a power loss allows for file contents. Directory operations (create, rename, unlink)
 * count as durable at once, so it does not model lost directory entries.
 *
 * <p>Not thread-safe: one node at a time, while that node is dead.
 */
final class CrashSim {
  private static final int MAGIC = 0x43525348;
  private static final int HEADER = 24;

  private CrashSim() {}

  /**
   * Compiles crashsim into {@code dir} and returns the shared library.
   *
   * @throws IllegalStateException if there is no working C compiler ({@code cc}) or it fails
   */
  static Path compile(Path dir) {
    try (InputStream in = CrashSim.class.getResourceAsStream("crashsim.c")) {
      if (in == null) {
        throw new IllegalStateException("crashsim.c is missing from the jepsen-lite jar");
      }
      Files.createDirectories(dir);
      Path src = dir.resolve("crashsim.c");
      Path lib = dir.resolve("crashsim.so");
      Files.write(src, in.readAllBytes());
      Path log = dir.resolve("crashsim-cc.log");
      List<String> cmd =
          List.of(
              "cc",
              "-shared",
              "-fPIC",
              "-O2",
              "-o",
              lib.toString(),
              src.toString(),
              "-ldl",
              "-lpthread");
      Process p;
      try {
        p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      } catch (IOException e) {
        throw new IllegalStateException(
            "the crash nemesis needs a C compiler (cc, e.g. Debian's gcc) to build crashsim: "
                + e.getMessage(),
            e);
      }
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException(
            "cannot compile crashsim with " + cmd + ":\n" + Files.readString(log));
      }
      return lib;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot build crashsim in " + dir, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted compiling crashsim", e);
    }
  }

  private record Undo(long offset, long oldSize, byte[] old) {}

  /**
   * Undoes every journalled write of a dead node: each file under {@code dataDir} that has a
   * journal in {@code undoDir} (matched by device and inode, so renamed files are found) gets its
   * records applied newest first. Journals are deleted afterwards.
   *
   * @return a summary: files rolled back, bytes restored, bytes cut off
   */
  static String rollBack(Path dataDir, Path undoDir) {
    if (!Files.isDirectory(undoDir)) {
      return "nothing journalled";
    }
    try {
      Map<String, Path> byInode = new HashMap<>();
      if (Files.isDirectory(dataDir)) {
        try (Stream<Path> s = Files.walk(dataDir)) {
          for (Path p : s.filter(Files::isRegularFile).toList()) {
            long dev = (Long) Files.getAttribute(p, "unix:dev");
            long ino = (Long) Files.getAttribute(p, "unix:ino");
            byInode.put(Long.toHexString(dev) + "-" + Long.toHexString(ino), p);
          }
        }
      }
      int files = 0;
      long restored = 0;
      long cut = 0;
      List<String> names = new ArrayList<>();
      try (Stream<Path> s = Files.list(undoDir)) {
        for (Path j : s.filter(p -> p.toString().endsWith(".undo")).toList()) {
          String key = j.getFileName().toString().replace(".undo", "");
          Path target = byInode.get(key);
          List<Undo> undos = read(j);
          if (target != null && !undos.isEmpty()) {
            try (RandomAccessFile f = new RandomAccessFile(target.toFile(), "rw")) {
              long before = f.length();
              for (int i = undos.size() - 1; i >= 0; i--) {
                Undo u = undos.get(i);
                if (u.old().length > 0) {
                  f.seek(u.offset());
                  f.write(u.old());
                  restored += u.old().length;
                }
                f.setLength(u.oldSize());
              }
              cut += Math.max(0, before - f.length());
            }
            files++;
            names.add(dataDir.relativize(target).toString());
          }
          Files.delete(j);
        }
      }
      return String.format(
          Locale.ROOT,
          "unsynced writes undone in %d files (%d bytes restored, %d bytes cut)%s",
          files,
          restored,
          cut,
          names.isEmpty() ? "" : " " + names);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot roll back the unsynced writes in " + dataDir, e);
    }
  }

  /**
   * The complete records of a journal, oldest first (a record cut short by the kill is dropped).
   */
  private static List<Undo> read(Path journal) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(journal)).order(ByteOrder.LITTLE_ENDIAN);
    List<Undo> undos = new ArrayList<>();
    while (b.remaining() >= HEADER) {
      int magic = b.getInt();
      int len = b.getInt();
      long offset = b.getLong();
      long oldSize = b.getLong();
      if (magic != MAGIC) {
        throw new IllegalStateException(
            "corrupt undo journal " + journal + " at byte " + (b.position() - HEADER));
      }
      if (len < 0 || b.remaining() < len) {
        break;
      }
      byte[] old = new byte[len];
      b.get(old);
      undos.add(new Undo(offset, oldSize, old));
    }
    return undos;
  }
}
