package io.libkv.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.CommandResult;
import io.libkv.store.Store;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write's request delivered again long after its client moved on, to members whose retry cache
 * cannot know it (every member restarted since): the soak's duplicate. The members' replicated
 * client sessions recognise it and apply nothing; before them, the old value overwrote the newer
 * acknowledged one.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ExactlyOnceIT {
  @TempDir Path dir;

  private static Message put(String key, String value, long floor) {
    return Wire.writes(
        CommandCodec.encodeCommands(List.of(new Command.Put(key, value.getBytes(UTF_8), 0, 0))),
        floor);
  }

  /** Sends one write request as a client that speaks Ratis would, to whichever member leads. */
  private static RaftClientReply send(
      EmbeddedCluster cluster, ClientId client, long callId, Message entry) throws Exception {
    Exception last = null;
    for (int attempt = 0; attempt < 50; attempt++) {
      EmbeddedNode leader = cluster.awaitLeader();
      RaftClient via = leader.channel().client();
      RaftClientRequest r =
          RaftClientRequest.newBuilder()
              .setClientId(client)
              .setServerId(RaftPeerId.valueOf(leader.id()))
              .setGroupId(via.getGroupId())
              .setCallId(callId)
              .setMessage(entry)
              .setType(RaftClientRequest.writeRequestType())
              .build();
      try {
        RaftClientReply reply = via.getClientRpc().sendRequestAsync(r).get(30, TimeUnit.SECONDS);
        if (reply.isSuccess()) {
          return reply;
        }
        last = reply.getException();
      } catch (Exception e) {
        last = e;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no member took the request", last);
  }

  @Test
  void aRequestDeliveredAgainAfterEveryMemberRestartedIsNotAppliedTwice() throws Exception {
    try (EmbeddedCluster cluster = EmbeddedCluster.start(3, dir)) {
      ClientId client = ClientId.randomId();
      // Call ids far above the JVM's own (Ratis' transports key their replies by call id).
      long first = Long.MAX_VALUE / 2;
      send(cluster, client, first, put("reg/4", "old", first));
      send(cluster, client, first + 21, put("reg/4", "newer", first + 21));
      for (String id : List.copyOf(cluster.runningIds())) {
        cluster.stop(id);
      }
      List.of("n1", "n2", "n3").parallelStream().forEach(cluster::restart);
      RaftClientReply late = send(cluster, client, first, put("reg/4", "old", first));
      List<CommandResult> results = CommandCodec.decodeResults(Wire.body(late.getMessage()));
      assertTrue(results.get(0) instanceof CommandResult.Skipped, "applied again: " + results);
      for (String id : cluster.runningIds()) {
        try (Store s = cluster.openStore(id)) {
          assertArrayEquals("newer".getBytes(UTF_8), s.get("reg/4").value(), "on " + id);
        }
      }
    }
  }
}
