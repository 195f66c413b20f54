package io.libkv.storage.engine;

import io.libkv.store.KVPair;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.broadcast.BroadcastBufferDescriptor;
import org.agrona.concurrent.broadcast.BroadcastReceiver;
import org.agrona.concurrent.broadcast.BroadcastTransmitter;

/**
 * The committed changes of one engine in an Agrona broadcast buffer. The apply thread is its single
 * writer ({@link #publish}, {@link #restored}, called from {@link ApplyListener} callbacks): it
 * copies each change in and moves on, never waiting for a reader. Readers ({@link #newReceiver})
 * follow at their own pace; one that falls a whole buffer behind is lapped and must resynchronise
 * from the engine itself.
 *
 * <p>Messages, in commit order:
 *
 * <ul>
 *   <li>{@link #CHANGE}: {@code long sequence, long revision, int keyLength, key (UTF-8), int
 *       valueLength (-1 for a deletion), value}. The sequence numbers messages for the life of the
 *       buffer: readers decoding the same message share one decoded pair ({@link #cached}).
 *   <li>{@link #CHANGE_TOO_LARGE}: {@code long sequence, long revision, int keyLength, key}: a
 *       change whose value does not fit a message; readers watching that key read it from the
 *       engine.
 *   <li>{@link #END}: {@code long lastRevision}: the end of one committed write transaction (so a
 *       tree watch shows no half-applied batch).
 *   <li>{@link #RESTORED}: {@code long restoreCount}: the engine's contents were replaced; every
 *       reader that started before it resynchronises.
 * </ul>
 *
 * <p>A new receiver starts at the latest message already in the buffer (Agrona's rule), so readers
 * ignore what their starting snapshot already covers: changes by revision, restores by count.
 */
final class ChangeBroadcast {
  static final int CHANGE = 1;
  static final int CHANGE_TOO_LARGE = 2;
  static final int END = 3;
  static final int RESTORED = 4;

  /** Offsets inside a change message. */
  static final int SEQUENCE_OFFSET = 0;

  static final int REVISION_OFFSET = 8;
  static final int KEY_LENGTH_OFFSET = 16;
  static final int KEY_OFFSET = 20;

  /** The default buffer: 4 MiB (a lapped reader is about 13,000 changes of 256 B behind). */
  static final int DEFAULT_CAPACITY = 4 << 20;

  private final AtomicBuffer buffer;
  private final int tailIndex;
  private final BroadcastTransmitter transmitter;
  private final ExpandableArrayBuffer scratch = new ExpandableArrayBuffer(1024);
  private volatile long restores;
  private long sequence; // apply thread only
  private volatile Decoded decoded;

  private record Decoded(long sequence, KVPair pair) {}

  /**
   * @param capacity bytes, a power of two
   */
  ChangeBroadcast(int capacity) {
    BroadcastBufferDescriptor.checkCapacity(capacity);
    this.buffer =
        new UnsafeBuffer(
            ByteBuffer.allocateDirect(capacity + BroadcastBufferDescriptor.TRAILER_LENGTH));
    this.tailIndex = capacity + BroadcastBufferDescriptor.TAIL_COUNTER_OFFSET;
    this.transmitter = new BroadcastTransmitter(buffer);
  }

  /** Apply thread only: every change of a committed batch, then its end. */
  void publish(AppliedBatch batch) {
    int max = transmitter.maxMsgLength();
    for (ChangeEvent e : batch.changes()) {
      scratch.putLong(SEQUENCE_OFFSET, ++sequence);
      scratch.putLong(REVISION_OFFSET, e.revision());
      int keyLength = scratch.putStringWithoutLengthUtf8(KEY_OFFSET, e.key());
      scratch.putInt(KEY_LENGTH_OFFSET, keyLength);
      int at = KEY_OFFSET + keyLength;
      byte[] value = e.value();
      int length = at + 4 + (value == null ? 0 : value.length);
      if (length > max) {
        transmitter.transmit(CHANGE_TOO_LARGE, scratch, 0, at);
        continue;
      }
      if (value == null) {
        scratch.putInt(at, -1);
      } else {
        scratch.putInt(at, value.length);
        scratch.putBytes(at + 4, value);
      }
      transmitter.transmit(CHANGE, scratch, 0, length);
    }
    scratch.putLong(0, batch.lastRevision());
    transmitter.transmit(END, scratch, 0, 8);
  }

  /** Apply thread only: the engine was restored from a snapshot. */
  void restored() {
    long count = restores + 1;
    restores = count; // before the message: a reader that read the old count will resync
    scratch.putLong(0, count);
    transmitter.transmit(RESTORED, scratch, 0, 8);
  }

  /** How many restores were published; read it before starting a receiver. */
  long restores() {
    return restores;
  }

  /** The count a {@link #RESTORED} message carries. */
  static long restoreCount(DirectBuffer b, int index) {
    return b.getLong(index);
  }

  /**
   * A reader starting at the latest message in the buffer. Readers read messages in place: after
   * reading one they must check {@link BroadcastReceiver#validate()} before acting on it.
   */
  BroadcastReceiver newReceiver() {
    return new BroadcastReceiver(buffer);
  }

  /** The pair another reader decoded from the change message {@code sequence}, or null. */
  KVPair cached(long sequence) {
    Decoded d = decoded;
    return d != null && d.sequence == sequence ? d.pair : null;
  }

  /** Shares a validated decoded pair with the other readers of the same message. */
  void remember(long sequence, KVPair pair) {
    decoded = new Decoded(sequence, pair);
  }

  /**
   * The position of the buffer's end, which moves with every message: a reader that drained the
   * buffer after reading this, and sees it unchanged later, has missed nothing.
   */
  long tail() {
    return buffer.getLongVolatile(tailIndex);
  }

  // ---------------------------------------------------------------------------- message access

  static long sequence(DirectBuffer b, int index) {
    return b.getLong(index + SEQUENCE_OFFSET);
  }

  /** Decodes a {@link #CHANGE} message (a {@code null} value for a deletion). */
  static KVPair pair(DirectBuffer b, int index) {
    return new KVPair(key(b, index), value(b, index), revision(b, index));
  }

  static long revision(DirectBuffer b, int index) {
    return b.getLong(index + REVISION_OFFSET);
  }

  static int keyLength(DirectBuffer b, int index) {
    return b.getInt(index + KEY_LENGTH_OFFSET);
  }

  static String key(DirectBuffer b, int index) {
    return b.getStringWithoutLengthUtf8(index + KEY_OFFSET, keyLength(b, index));
  }

  /** Whether the message's key is exactly {@code key} (UTF-8). */
  static boolean keyEquals(DirectBuffer b, int index, byte[] key) {
    if (keyLength(b, index) != key.length) {
      return false;
    }
    return startsWith(b, index, key);
  }

  /** Whether the message's key starts with {@code prefix} (UTF-8) and is longer than it. */
  static boolean keyUnder(DirectBuffer b, int index, byte[] prefix) {
    return keyLength(b, index) > prefix.length && startsWith(b, index, prefix);
  }

  private static boolean startsWith(DirectBuffer b, int index, byte[] prefix) {
    int at = index + KEY_OFFSET;
    for (int i = 0; i < prefix.length; i++) {
      if (b.getByte(at + i) != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** The value of a {@link #CHANGE} message, {@code null} for a deletion. */
  static byte[] value(DirectBuffer b, int index) {
    int at = index + KEY_OFFSET + keyLength(b, index);
    int length = b.getInt(at);
    if (length < 0) {
      return null;
    }
    byte[] v = new byte[length];
    b.getBytes(at + 4, v);
    return v;
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
