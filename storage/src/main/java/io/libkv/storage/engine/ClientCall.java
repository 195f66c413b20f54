package io.libkv.storage.engine;

import java.util.Arrays;
import java.util.Objects;

/**
 * Who sent a replicated batch, for the exactly-once rule of {@link KvEngine#apply(long, long,
 * java.util.List, ClientCall)}: the sending client's id, the call id of this batch, and the lowest
 * call id that client still waited for when it sent the batch (its floor). Every call below the
 * floor had completed for the client (acknowledged, or given up), so a copy of one arriving later
 * is a duplicate that nobody awaits.
 *
 * @param clientId the client's id (Ratis' 16 bytes for the embedded store); never empty
 * @param callId the batch's call id; a client's call ids grow in the order it sends
 * @param floor the lowest call id the client still awaited, at most {@code callId}
 */
public record ClientCall(byte[] clientId, long callId, long floor) {
  /**
   * @throws IllegalArgumentException if the client id is empty or longer than 64 bytes, or the
   *     floor is above the call id
   */
  public ClientCall {
    Objects.requireNonNull(clientId, "clientId");
    if (clientId.length == 0 || clientId.length > 64) {
      throw new IllegalArgumentException("a client id has 1 to 64 bytes, not " + clientId.length);
    }
    if (floor > callId) {
      throw new IllegalArgumentException("the floor " + floor + " is above the call id " + callId);
    }
    clientId = clientId.clone();
  }

  @Override
  public byte[] clientId() {
    return clientId.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ClientCall c
        && Arrays.equals(clientId, c.clientId)
        && callId == c.callId
        && floor == c.floor;
  }

  @Override
  public int hashCode() {
    return Objects.hash(Arrays.hashCode(clientId), callId, floor);
  }

  @Override
  public String toString() {
    return "ClientCall["
        + java.util.HexFormat.of().formatHex(clientId)
        + "#"
        + callId
        + ", floor "
        + floor
        + "]";
  }

  /** The client id as stored: no copy (for {@link ClientSessions}). */
  byte[] idBytes() {
    return clientId;
  }
}
