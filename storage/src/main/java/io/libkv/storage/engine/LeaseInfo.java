package io.libkv.storage.engine;

/**
 * A stored lease.
 *
 * @param leaseId its id
 * @param ttlMillis its time to live
 * @param keyLease whether it was made by a put with a TTL (it ends with its key)
 */
public record LeaseInfo(long leaseId, long ttlMillis, boolean keyLease) {}
