package io.libkv.raft;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal {@link ReplicatedState} for testing the Raft layer alone: an in-memory list of strings.
 * A command is a UTF-8 string; its result is its revision (8 bytes); a batch is
 * [count][len][bytes]...; a query returns the whole list joined by newlines.
 */
final class ListState implements ReplicatedState {
  private final List<String> items = new ArrayList<>();
  private volatile long applied;

  static byte[] encodeBatch(List<byte[]> commands) {
    int n = 4;
    for (byte[] c : commands) {
      n += 4 + c.length;
    }
    ByteBuffer b = ByteBuffer.allocate(n).putInt(commands.size());
    for (byte[] c : commands) {
      b.putInt(c.length).put(c);
    }
    return b.array();
  }

  static List<byte[]> decodeResults(byte[] body) {
    ByteBuffer b = ByteBuffer.wrap(body);
    List<byte[]> out = new ArrayList<>();
    while (b.remaining() >= 8) {
      byte[] r = new byte[8];
      b.get(r);
      out.add(r);
    }
    return out;
  }

  @Override
  public long appliedIndex() {
    return applied;
  }

  @Override
  public synchronized byte[] apply(long logIndex, byte[] payload) {
    List<String> batch = new ArrayList<>();
    try {
      ByteBuffer b = ByteBuffer.wrap(payload);
      int n = b.getInt();
      if (n < 0 || n > 65536) {
        throw new MalformedEntryException("bad count " + n, null);
      }
      for (int i = 0; i < n; i++) {
        byte[] c = new byte[b.getInt()];
        b.get(c);
        batch.add(new String(c, StandardCharsets.UTF_8));
      }
      if (b.hasRemaining()) {
        throw new MalformedEntryException("trailing bytes", null);
      }
    } catch (RuntimeException e) {
      if (e instanceof MalformedEntryException m) {
        throw m;
      }
      throw new MalformedEntryException("bad batch: " + e, e);
    }
    ByteBuffer out = ByteBuffer.allocate(8 * batch.size());
    for (int i = 0; i < batch.size(); i++) {
      out.putLong((logIndex << 16) + i);
    }
    if (logIndex > applied) {
      items.addAll(batch);
      applied = logIndex;
    }
    return out.array();
  }

  @Override
  public synchronized byte[] query(byte[] request) {
    return String.join("\n", items).getBytes(StandardCharsets.UTF_8);
  }

  synchronized List<String> items() {
    return List.copyOf(items);
  }

  @Override
  public synchronized long snapshotTo(Path file) {
    try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(file))) {
      out.writeLong(applied);
      out.writeInt(items.size());
      for (String s : items) {
        out.writeUTF(s);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return applied;
  }

  @Override
  public synchronized long restoreFrom(Path file) {
    try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
      long a = in.readLong();
      int n = in.readInt();
      items.clear();
      for (int i = 0; i < n; i++) {
        items.add(in.readUTF());
      }
      applied = a;
      return a;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {}
}
