package io.libkv.raft;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

/** Parses {@code id=host:port} endpoints into Ratis peers, and names the Raft group. */
final class Peers {
  /** The group name when {@code embedded.group} is not set. */
  static final String DEFAULT_GROUP = "libkv";

  private Peers() {}

  /**
   * Parses every endpoint.
   *
   * @throws IllegalArgumentException naming the bad endpoint, or a duplicate id or address
   */
  static List<RaftPeer> parse(List<String> endpoints) {
    if (endpoints == null || endpoints.isEmpty()) {
      throw new IllegalArgumentException(
          "EMBEDDED needs the peers as endpoints, each as id=host:port (e.g. n1=127.0.0.1:7001)");
    }
    List<RaftPeer> peers = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    Set<String> addresses = new HashSet<>();
    for (String e : endpoints) {
      RaftPeer p = parse(e);
      if (!ids.add(p.getId().toString())) {
        throw new IllegalArgumentException("duplicate peer id in endpoint '" + e + "'");
      }
      if (!addresses.add(p.getAddress())) {
        throw new IllegalArgumentException("duplicate peer address in endpoint '" + e + "'");
      }
      peers.add(p);
    }
    return List.copyOf(peers);
  }

  /** Parses one {@code id=host:port} endpoint. */
  static RaftPeer parse(String endpoint) {
    if (endpoint == null) {
      throw new IllegalArgumentException("null endpoint");
    }
    int eq = endpoint.indexOf('=');
    int colon = endpoint.lastIndexOf(':');
    if (eq <= 0 || colon <= eq + 1 || colon == endpoint.length() - 1) {
      throw new IllegalArgumentException(
          "bad EMBEDDED endpoint '" + endpoint + "': expected id=host:port");
    }
    String id = endpoint.substring(0, eq).trim();
    String host = endpoint.substring(eq + 1, colon).trim();
    int port;
    try {
      port = Integer.parseInt(endpoint.substring(colon + 1).trim());
    } catch (NumberFormatException ex) {
      throw new IllegalArgumentException(
          "bad port in EMBEDDED endpoint '" + endpoint + "': expected id=host:port", ex);
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          "port out of range 1..65535 in EMBEDDED endpoint '" + endpoint + "'");
    }
    if (!id.matches("[A-Za-z0-9_.-]{1,64}")) {
      throw new IllegalArgumentException(
          "bad node id '"
              + id
              + "' in EMBEDDED endpoint '"
              + endpoint
              + "': use 1 to 64 of A-Z a-z 0-9 _ . -");
    }
    return RaftPeer.newBuilder()
        .setId(RaftPeerId.valueOf(id))
        .setAddress(host + ":" + port)
        .build();
  }

  /** Returns the peer's host and port. */
  static InetSocketAddress address(RaftPeer peer) {
    String a = peer.getAddress();
    int colon = a.lastIndexOf(':');
    return InetSocketAddress.createUnresolved(
        a.substring(0, colon), Integer.parseInt(a.substring(colon + 1)));
  }

  /** Returns the group id for a group name: the same name gives the same id on every node. */
  static RaftGroupId groupId(String name) {
    return RaftGroupId.valueOf(
        UUID.nameUUIDFromBytes(("libkv-raft-group:" + name).getBytes(StandardCharsets.UTF_8)));
  }

  /** Returns the group of these peers. */
  static RaftGroup group(String name, List<RaftPeer> peers) {
    return RaftGroup.valueOf(groupId(name), peers);
  }

  /** Returns the endpoint string of a peer, {@code id=host:port}. */
  static String endpoint(RaftPeer peer) {
    return peer.getId() + "=" + peer.getAddress();
  }
}
