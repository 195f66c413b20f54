package io.libkv.consul;

import io.libkv.store.KVPair;

/**
 * One KV entry as Consul's API returns it ({@code CreateIndex}, {@code ModifyIndex}, {@code
 * LockIndex}, {@code Key}, {@code Flags}, {@code Value} decoded from base64, {@code Session}).
 *
 * @param value the decoded value, empty (never {@code null}) when Consul sent {@code null}
 * @param session the holding session, or {@code null}
 */
record ConsulEntry(
    String key,
    byte[] value,
    long createIndex,
    long modifyIndex,
    long lockIndex,
    long flags,
    String session) {

  KVPair toPair() {
    return new KVPair(key, value, modifyIndex);
  }

  boolean heldBy(String sessionId) {
    return session != null && session.equals(sessionId);
  }
}
