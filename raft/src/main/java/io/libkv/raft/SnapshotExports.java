package io.libkv.raft;

import io.libkv.storage.engine.OwnerOnly;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * A member's side of a backup ({@code ./libkv snapshot save}): a consistent copy of the member's
 * data made on request ({@link #begin}), then read back in chunks ({@link #chunk}) by the client
 * that asked, and deleted once read to its end, or after {@link #IDLE_NANOS} without a read, or
 * when the member closes. At most {@link #MAX_OPEN} copies exist at once.
 *
 * <p>Both calls are read-only queries: the client sends them as linearizable reads, so the member
 * answering {@code begin} has applied every write acknowledged before it, and the copy holds them.
 */
final class SnapshotExports implements AutoCloseable {
  /** How long an unread copy is kept. */
  static final long IDLE_NANOS = 60_000_000_000L;

  /** Copies that may exist at once (each is a whole copy of the data on this member's disk). */
  static final int MAX_OPEN = 2;

  /** The largest chunk a client may ask for. */
  static final int MAX_CHUNK = 4 << 20;

  private static final SecureRandom TOKENS = new SecureRandom();

  private final Path dir;
  private final ReplicatedState state;
  private final LongSupplier nanoTime;
  private final Map<String, Export> open = new ConcurrentHashMap<>();

  private record Export(Path file, long size, long appliedIndex, byte[] sha256, long[] lastUse) {}

  /**
   * @param dir where copies are kept (created owner-only; what a crashed member left there is
   *     deleted)
   */
  SnapshotExports(Path dir, ReplicatedState state, LongSupplier nanoTime) {
    this.dir = dir;
    this.state = state;
    this.nanoTime = nanoTime;
    deleteLeftovers();
  }

  /**
   * Makes a consistent copy of the data and returns its description: {@code [token: 16 bytes]
   * [applied index: long][size: long][SHA-256: 32 bytes]}.
   *
   * @throws MalformedEntryException if {@link #MAX_OPEN} copies are already open (the request is
   *     refused, not retried)
   */
  byte[] begin() {
    expire();
    if (open.size() >= MAX_OPEN) {
      throw new MalformedEntryException(
          MAX_OPEN + " snapshots are already being saved from this member; try again later", null);
    }
    byte[] token = new byte[16];
    TOKENS.nextBytes(token);
    String name = HexFormat.of().formatHex(token);
    Path file = dir.resolve("export-" + name);
    try {
      OwnerOnly.createDirectories(dir);
      long applied = state.snapshotTo(file);
      long size = Files.size(file);
      byte[] sha = sha256(file);
      open.put(name, new Export(file, size, applied, sha, new long[] {nanoTime.getAsLong()}));
      return ByteBuffer.allocate(16 + 8 + 8 + 32)
          .put(token)
          .putLong(applied)
          .putLong(size)
          .put(sha)
          .array();
    } catch (IOException | RuntimeException e) {
      FileTrees.deleteQuietly(file);
      throw new UncheckedIOException(
          "cannot copy the data for a snapshot: " + e.getMessage(),
          e instanceof IOException io ? io : new IOException(e));
    }
  }

  /**
   * Reads {@code length} bytes (fewer at the end) at {@code offset} of the copy named by {@code
   * token}; the copy is deleted once its last byte has been read.
   *
   * @throws MalformedEntryException if the token names no open copy (expired, finished, or made by
   *     another member) or the range is invalid
   */
  byte[] chunk(byte[] token, long offset, int length) {
    expire();
    String name = HexFormat.of().formatHex(token);
    Export e = open.get(name);
    if (e == null) {
      throw new MalformedEntryException(
          "no snapshot "
              + name
              + " is being saved from this member (it expired after "
              + IDLE_NANOS / 1_000_000_000L
              + " s unread, or the request reached another member): save again",
          null);
    }
    if (offset < 0 || offset > e.size || length <= 0 || length > MAX_CHUNK) {
      throw new MalformedEntryException(
          "bad snapshot chunk: offset " + offset + ", length " + length + " of " + e.size, null);
    }
    e.lastUse[0] = nanoTime.getAsLong();
    int n = (int) Math.min(length, e.size - offset);
    ByteBuffer out = ByteBuffer.allocate(n);
    try (FileChannel ch = FileChannel.open(e.file, StandardOpenOption.READ)) {
      while (out.hasRemaining()) {
        if (ch.read(out, offset + out.position()) < 0) {
          throw new IOException("the copy ended early");
        }
      }
    } catch (IOException x) {
      throw new UncheckedIOException("cannot read snapshot copy " + e.file, x);
    }
    if (offset + n >= e.size && open.remove(name, e)) {
      FileTrees.deleteQuietly(e.file);
    }
    return out.array();
  }

  /** Copies open now (for tests and status). */
  int openCount() {
    return open.size();
  }

  private void expire() {
    long now = nanoTime.getAsLong();
    for (Iterator<Map.Entry<String, Export>> it = open.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Export> en = it.next();
      if (now - en.getValue().lastUse[0] > IDLE_NANOS) {
        it.remove();
        FileTrees.deleteQuietly(en.getValue().file);
      }
    }
  }

  static byte[] sha256(Path file) throws IOException {
    MessageDigest md = newSha256();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return md.digest();
  }

  static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }

  private void deleteLeftovers() {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> s = Files.list(dir)) {
      s.forEach(FileTrees::deleteQuietly);
    } catch (IOException e) {
      // Leftovers only cost disk space; the next start tries again.
    }
  }

  /** Deletes every copy. */
  @Override
  public void close() {
    for (Export e : open.values()) {
      FileTrees.deleteQuietly(e.file);
    }
    open.clear();
  }
}
