package io.libkv.raft;

import io.libkv.store.StoreException;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The backup file of an embedded cluster ({@code ./libkv snapshot save}): a header, then a
 * compacted copy of one member's LMDB data taken after a ReadIndex.
 *
 * <pre>
 * [magic "LIBKVSNP"][format version: int][applied index: long][data size: long][SHA-256 of the
 * data: 32 bytes][data: size bytes]
 * </pre>
 *
 * A file is accepted only whole: the right magic and version, exactly {@code size} bytes of data
 * after the header, and their digest as recorded.
 */
final class SnapshotFile {
  static final byte[] MAGIC = "LIBKVSNP".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int HEADER_BYTES = 8 + 4 + 8 + 8 + 32;
  static final int CHUNK = 1 << 20;

  private SnapshotFile() {}

  /**
   * What a backup file holds.
   *
   * @param appliedIndex the Raft log index of the last entry applied to the data
   * @param size bytes of data after the header
   * @param sha256 their digest
   */
  record Header(long appliedIndex, long size, byte[] sha256) {}

  /**
   * Asks the member serving {@code channel}'s linearizable reads for a copy of its data and writes
   * it to {@code file} (through a temporary file beside it, synced, then renamed: a failed save
   * leaves no partial file under that name).
   *
   * @throws StoreException if the cluster cannot be reached or the copy cannot be read to its end
   * @throws java.io.UncheckedIOException if {@code file} cannot be written
   */
  static Header download(RaftChannel<?, ?> channel, Path file, long waitMs) {
    java.util.List<String> eps = channel.endpoints();
    byte[] begun = await(channel.ask(Wire.exportBegin()), waitMs, eps, "start a snapshot");
    ByteBuffer b = ByteBuffer.wrap(begun);
    byte[] token = new byte[16];
    b.get(token);
    long applied = b.getLong();
    long size = b.getLong();
    byte[] sha = new byte[32];
    b.get(sha);
    Path tmp = file.resolveSibling(file.getFileName() + ".part");
    MessageDigest md = SnapshotExports.newSha256();
    try {
      Files.deleteIfExists(tmp);
      try (OutputStream out = Files.newOutputStream(tmp)) {
        out.write(header(applied, size, sha));
        long offset = 0;
        while (offset < size) {
          int want = (int) Math.min(CHUNK, size - offset);
          byte[] chunk =
              await(
                  channel.ask(Wire.exportChunk(token, offset, want)),
                  waitMs,
                  eps,
                  "read the snapshot at byte " + offset + " of " + size);
          if (chunk.length == 0 || chunk.length > want) {
            throw new StoreException(
                "the member sent " + chunk.length + " bytes of the snapshot, asked " + want);
          }
          md.update(chunk);
          out.write(chunk);
          offset += chunk.length;
        }
      }
      if (!Arrays.equals(md.digest(), sha)) {
        throw new StoreException("the snapshot's bytes do not match its digest: save again");
      }
      Durable.syncFile(tmp);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      Durable.syncDir(file.toAbsolutePath().getParent());
      return new Header(applied, size, sha);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot write the snapshot to " + file, e);
    } finally {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException e) {
        // Nothing more to do: the temporary file only takes space.
      }
    }
  }

  /**
   * Checks a whole backup file and returns its header.
   *
   * @throws StoreException naming the file and what is wrong if it is not a complete, undamaged
   *     backup
   */
  static Header verify(Path file) {
    try (InputStream raw = Files.newInputStream(file);
        DataInputStream in = new DataInputStream(raw)) {
      byte[] magic = new byte[MAGIC.length];
      in.readFully(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw damaged(file, "it is not a libkv snapshot (no LIBKVSNP header)");
      }
      int version = in.readInt();
      if (version != VERSION) {
        throw damaged(file, "format version " + version + ", this build reads " + VERSION);
      }
      long applied = in.readLong();
      long size = in.readLong();
      byte[] sha = new byte[32];
      in.readFully(sha);
      long actual = Files.size(file) - HEADER_BYTES;
      if (size < 0 || actual != size) {
        throw damaged(
            file,
            "the header announces "
                + size
                + " bytes of data, the file holds "
                + actual
                + (actual < size ? " (truncated)" : ""));
      }
      MessageDigest md = SnapshotExports.newSha256();
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      if (!Arrays.equals(md.digest(), sha)) {
        throw damaged(
            file,
            "its data does not match the SHA-256 " + HexFormat.of().formatHex(sha) + " in it");
      }
      return new Header(applied, size, sha);
    } catch (EOFException e) {
      throw damaged(file, "it ends inside its " + HEADER_BYTES + "-byte header (truncated)");
    } catch (IOException e) {
      throw new StoreException("cannot read snapshot file " + file + ": " + e, e);
    }
  }

  /** Copies the data of a verified backup file to {@code target} and syncs it. */
  static void copyData(Path file, Path target) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      in.skipNBytes(HEADER_BYTES);
      Files.copy(in, target);
    }
    Durable.syncFile(target);
  }

  private static byte[] header(long applied, long size, byte[] sha) {
    return ByteBuffer.allocate(HEADER_BYTES)
        .put(MAGIC)
        .putInt(VERSION)
        .putLong(applied)
        .putLong(size)
        .put(sha)
        .array();
  }

  private static StoreException damaged(Path file, String why) {
    return new StoreException(
        "snapshot file " + file + " is refused: " + why + ". Nothing was changed.");
  }

  private static byte[] await(
      CompletableFuture<byte[]> f, long waitMs, java.util.List<String> endpoints, String what) {
    try {
      return f.get(waitMs, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while trying to " + what, e);
    } catch (ExecutionException e) {
      Throwable c = RatisErrors.unwrap(e.getCause());
      if (c instanceof IllegalStateException) {
        // The member refused the request (Wire.body): its reason says what to do.
        throw new StoreException("cannot " + what + ": " + c.getMessage(), c);
      }
      throw RatisErrors.map(c, endpoints, what);
    } catch (TimeoutException e) {
      throw new io.libkv.store.NotReachableException(
          endpoints, "could not " + what + " within " + waitMs + " ms", e);
    }
  }
}
