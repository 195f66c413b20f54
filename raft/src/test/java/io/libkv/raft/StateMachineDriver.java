package io.libkv.raft;

import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Drives a {@link KvStateMachine} as Ratis would, without a Raft server: a leader's {@code
 * startTransaction} of a client's write, and a follower's apply of a log entry.
 */
final class StateMachineDriver {
  private StateMachineDriver() {}

  /**
   * The leader's start of a write whose message is {@code content}.
   *
   * @throws Exception what Ratis would answer the client with, appending nothing
   */
  static TransactionContext start(KvStateMachine machine, ByteString content) throws Exception {
    RaftClientRequest request =
        RaftClientRequest.newBuilder()
            .setClientId(ClientId.randomId())
            .setServerId(RaftPeerId.valueOf("n1"))
            .setGroupId(RaftGroupId.randomId())
            .setCallId(1)
            .setMessage(Message.valueOf(content))
            .setType(RaftClientRequest.writeRequestType())
            .build();
    TransactionContext t = machine.startTransaction(request);
    if (t.getException() != null) {
      throw t.getException();
    }
    return t;
  }

  /** Applies {@code logData} as log entry {@code index} (term 1) on a follower; its reply. */
  static Message apply(KvStateMachine machine, ByteString logData, long index) throws Exception {
    LogEntryProto entry =
        LogEntryProto.newBuilder()
            .setTerm(1)
            .setIndex(index)
            .setStateMachineLogEntry(StateMachineLogEntryProto.newBuilder().setLogData(logData))
            .build();
    TransactionContext applied =
        TransactionContext.newBuilder()
            .setStateMachine(machine)
            .setServerRole(RaftPeerRole.FOLLOWER)
            .setLogEntry(entry)
            .build();
    return machine.applyTransaction(applied).get(10, TimeUnit.SECONDS);
  }
}
