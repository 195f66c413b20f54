package io.libkv.storage.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.lmdbjava.CursorIterable;
import org.lmdbjava.Dbi;
import org.lmdbjava.KeyRange;
import org.lmdbjava.Txn;

/**
 * The replicated client sessions behind exactly-once writes: per client id, the highest floor its
 * batches carried ({@link ClientCall#floor()}) and the log index it was last seen at. A batch whose
 * call id is below its client's floor is a late copy of a call the client has finished with: it is
 * not applied. The sessions live in the engine's environment and change in the apply transaction of
 * the batch that moves them, so every replica (and every snapshot) holds the same ones.
 *
 * <p>At most {@link #MAX_SESSIONS}: a new client beyond it evicts the one seen longest ago (by log
 * index, so every replica evicts the same one). A copy from an evicted client's call would be
 * applied; a client would have to stay silent while {@code MAX_SESSIONS} others wrote after it, and
 * its copy then reach the leader, past Ratis' retry cache too.
 *
 * <p>Apply thread only (inside {@link KvEngine}'s write transaction).
 */
final class ClientSessions {
  static final int MAX_SESSIONS = 10_000;
  private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

  private final Dbi<DirectBuffer> dbi;
  private final ByteBuffer keyMemory = ByteBuffer.allocateDirect(64);
  private final UnsafeBuffer key = new UnsafeBuffer(keyMemory);
  private final UnsafeBuffer value = new UnsafeBuffer(ByteBuffer.allocateDirect(16));

  ClientSessions(Dbi<DirectBuffer> dbi) {
    this.dbi = dbi;
  }

  /**
   * Records {@code call}, seen at log index {@code index}, unless it is a late copy.
   *
   * @return whether the batch is to be applied ({@code false}: its call id is below the floor its
   *     client's later batches carried)
   */
  boolean admit(Txn<DirectBuffer> txn, ClientCall call, long index) {
    byte[] id = call.idBytes();
    key.wrap(keyMemory, 0, id.length);
    key.putBytes(0, id);
    DirectBuffer found = dbi.get(txn, key);
    long floor = call.floor();
    if (found != null) {
      long stored = found.getLong(0, BE);
      if (call.callId() < stored) {
        return false;
      }
      floor = Math.max(floor, stored);
    } else if (dbi.stat(txn).entries >= MAX_SESSIONS) {
      evictOldest(txn);
    }
    value.putLong(0, floor, BE);
    value.putLong(8, index, BE);
    dbi.put(txn, key, value);
    return true;
  }

  private void evictOldest(Txn<DirectBuffer> txn) {
    byte[] oldest = null;
    long oldestIndex = Long.MAX_VALUE;
    try (CursorIterable<DirectBuffer> all = dbi.iterate(txn, KeyRange.all())) {
      for (CursorIterable.KeyVal<DirectBuffer> kv : all) {
        long seen = kv.val().getLong(8, BE);
        if (seen < oldestIndex) {
          oldestIndex = seen;
          oldest = new byte[kv.key().capacity()];
          kv.key().getBytes(0, oldest);
        }
      }
    }
    if (oldest != null) {
      UnsafeBuffer k = new UnsafeBuffer(ByteBuffer.allocateDirect(oldest.length));
      k.putBytes(0, oldest);
      dbi.delete(txn, k);
    }
  }
}
