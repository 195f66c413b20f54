package io.libkv.jepsen;

import java.util.HashMap;
import java.util.Map;

/**
 * A resource guarded by fencing tokens, as a storage service would guard itself against a lock
 * holder that was paused past its lease: it refuses a write whose token is below the largest it has
 * seen. It also counts what must never happen: a write accepted from a holder whose token another
 * holder already had (fencing tokens must grow with every new holder), which the resource cannot
 * refuse because the token looks current.
 *
 * <p>Thread-safe.
 */
final class FencedResource {
  private long maxToken = Long.MIN_VALUE;
  private final Map<Long, Long> holderOfToken = new HashMap<>();
  private long accepted;
  private long rejected;
  private long staleAccepted;

  /**
   * A write by lock acquisition {@code holder} carrying {@code token}.
   *
   * @return whether the resource accepted it
   */
  synchronized boolean write(long token, long holder) {
    if (token < maxToken) {
      rejected++;
      return false;
    }
    maxToken = token;
    Long owner = holderOfToken.putIfAbsent(token, holder);
    if (owner != null && owner != holder) {
      staleAccepted++;
    }
    accepted++;
    return true;
  }

  synchronized long accepted() {
    return accepted;
  }

  synchronized long rejected() {
    return rejected;
  }

  /** Writes accepted from a holder whose token was another holder's: must stay 0. */
  synchronized long staleAccepted() {
    return staleAccepted;
  }
}
