package io.libkv.storage.engine;

import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Creates data directories readable only by their owner (0700) and restricts data files to 0600, on
 * file systems with POSIX permissions; elsewhere (e.g. Windows) it creates directories as {@link
 * Files#createDirectories} does and leaves permissions alone. Only what libkv creates is
 * restricted: an existing directory or file keeps the mode its owner gave it.
 */
public final class OwnerOnly {
  /** {@code rwx------}. */
  public static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");

  /** {@code rw-------}. */
  public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

  /** The mode new LMDB files are created with ({@code 0600}, further filtered by the umask). */
  public static final int LMDB_FILE_MODE = 0600;

  private OwnerOnly() {}

  /** Whether the file system of {@code p} has POSIX permissions. */
  public static boolean posix(Path p) {
    FileSystem fs = p.getFileSystem();
    return fs.supportedFileAttributeViews().contains("posix");
  }

  /**
   * Creates {@code dir} and any missing parents, each new one with mode 0700 (POSIX only).
   *
   * @throws IOException if a directory cannot be created
   */
  public static Path createDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return dir;
    }
    if (!posix(dir)) {
      return Files.createDirectories(dir);
    }
    Path parent = dir.toAbsolutePath().getParent();
    if (parent != null && !Files.exists(parent)) {
      createDirectories(parent);
    }
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR));
    } catch (java.nio.file.FileAlreadyExistsException e) {
      if (!Files.isDirectory(dir)) {
        throw e;
      }
      return dir;
    }
    // The umask may have removed owner bits; set the mode exactly.
    Files.setPosixFilePermissions(dir, DIR);
    return dir;
  }

  /**
   * Sets a file libkv just created to mode 0600 (POSIX only; nothing if it does not exist).
   *
   * @throws IOException if the mode cannot be set
   */
  public static void restrictFile(Path file) throws IOException {
    if (posix(file) && Files.isRegularFile(file)) {
      Files.setPosixFilePermissions(file, FILE);
    }
  }
}
