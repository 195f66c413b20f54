package io.libkv.raft;

import io.libkv.storage.engine.OwnerOnly;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether a member's {@code kv/} copy survived since it was last written. The member's LMDB
 * runs without fsync (the Raft log is the durable record; snapshots are synced): a process that
 * dies leaves every write in the kernel's page cache, so {@code kv/} is intact after a kill, but a
 * power loss or kernel crash can leave some of its pages written and others not, which LMDB cannot
 * detect. So the member records the machine's boot id ({@code /proc/sys/kernel/random/boot_id})
 * before it writes to {@code kv/}; if at the next start the machine has booted since (or the boot
 * id cannot be read), {@code kv/} is deleted and rebuilt from the member's synced snapshot and Raft
 * log, which hold everything it had applied.
 */
final class BootGuard {
  private static final Logger LOG = LoggerFactory.getLogger(BootGuard.class);
  static final String FILE = "kv.boot";
  private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

  private BootGuard() {}

  /** This boot of the machine, or {@code null} where the OS does not say. */
  static String currentBoot() {
    try {
      String id = Files.readString(BOOT_ID, StandardCharsets.US_ASCII).trim();
      return id.isEmpty() ? null : id;
    } catch (IOException | SecurityException e) {
      return null;
    }
  }

  /**
   * Before {@code dataDir/kv} is opened: deletes it if it was written during another boot (or no
   * boot is recorded, or {@code boot} is {@code null}) and records {@code boot}, synced.
   *
   * @return whether {@code kv/} was deleted
   * @throws UncheckedIOException if the directory cannot be cleared or the record written
   */
  static boolean prepare(Path dataDir, String boot) {
    Path kv = dataDir.resolve("kv");
    Path record = dataDir.resolve(FILE);
    try {
      boolean deleted = false;
      if (Files.exists(kv)) {
        String recorded = read(record);
        if (boot == null || !boot.equals(recorded)) {
          LOG.warn(
              "{} was last written {}; rebuilding it from the member's snapshot and Raft log",
              kv,
              boot == null
                  ? "at a boot this OS does not identify"
                  : recorded == null ? "with no boot recorded" : "before the machine rebooted");
          FileTrees.delete(kv);
          Durable.syncDir(dataDir);
          deleted = true;
        }
      }
      if (boot != null && !boot.equals(read(record))) {
        Path tmp = dataDir.resolve(FILE + ".tmp");
        Files.writeString(tmp, boot + "\n", StandardCharsets.US_ASCII);
        OwnerOnly.restrictFile(tmp);
        Durable.syncFile(tmp);
        Files.move(
            tmp, record, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Durable.syncDir(dataDir);
      }
      return deleted;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot check or clear " + kv + ": " + e.getMessage(), e);
    }
  }

  private static String read(Path record) throws IOException {
    try {
      return Files.readString(record, StandardCharsets.US_ASCII).trim();
    } catch (NoSuchFileException e) {
      return null;
    }
  }
}
