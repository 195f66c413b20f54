package io.libkv.raft;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.CommandResult;
import io.libkv.storage.engine.EngineOptions;
import io.libkv.storage.engine.KvEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The CPU cost of one 256-byte put through the embedded backend's state machine, without Raft's
 * log, network or fsync: what the writer encodes, what the leader checks before the log ({@code
 * startTransaction}) and applies ({@code applyTransaction}: the LMDB write transaction without
 * fsync, and the reply), what the writer decodes of the reply; and the same entry applied on a
 * follower (decoded from the log). Entries carry a client session (client id, call id, floor), as a
 * store's are. Microseconds per put.
 *
 * <p>Run (from the repository root, after {@code mvn -B -o -q test-compile -pl raft -am}): {@code
 * java -cp "raft/target/test-classes:raft/target/classes:$(cat /tmp/raft.cp)" org.openjdk.jmh.Main
 * KvStateMachinePutBench}, where {@code /tmp/raft.cp} comes from {@code mvn -B -o -q
 * dependency:build-classpath -pl raft -Dmdep.includeScope=test -Dmdep.outputFile=/tmp/raft.cp}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"
    })
public class KvStateMachinePutBench {
  private static final int KEYS = 1024;

  private Path dir;
  private KvEngine leaderEngine;
  private KvEngine followerEngine;
  private KvStateMachine leader;
  private KvStateMachine follower;
  private final ClientId client = ClientId.randomId();
  private final RaftGroupId group = RaftGroupId.randomId();
  private final byte[] value = new byte[256];
  private long leaderIndex;
  private long followerIndex;
  private long call;
  private ByteString followerEntry;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("libkv-sm-bench-");
    EngineOptions o = EngineOptions.builder().sync(false).initialMapSizeBytes(1L << 28).build();
    leaderEngine = KvEngine.open(dir.resolve("leader"), o);
    followerEngine = KvEngine.open(dir.resolve("follower"), o);
    leader = new KvStateMachine(new EngineState(leaderEngine), l -> {});
    follower = new KvStateMachine(new EngineState(followerEngine), l -> {});
    for (int i = 0; i < value.length; i++) {
      value[i] = (byte) i;
    }
    followerEntry = encode(new Command.Put("bench/follower", value, 0, 0), 1);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    leader.close();
    follower.close();
    leaderEngine.close();
    followerEngine.close();
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** An entry as a store's router sends it: with the client's floor (a client session). */
  private static ByteString encode(Command c, long floor) {
    return Wire.writes(CommandCodec.encodeCommands(List.of(c)), floor).getContent();
  }

  /** Writer encodes, leader checks and applies, writer decodes the reply. */
  @Benchmark
  public List<CommandResult> leaderPut() throws Exception {
    long callId = ++call;
    ByteString content = encode(new Command.Put("bench/k" + (callId % KEYS), value, 0, 0), callId);
    RaftClientRequest request =
        RaftClientRequest.newBuilder()
            .setClientId(client)
            .setServerId(RaftPeerId.valueOf("n1"))
            .setGroupId(group)
            .setCallId(callId)
            .setMessage(Message.valueOf(content))
            .setType(RaftClientRequest.writeRequestType())
            .build();
    TransactionContext trx = leader.startTransaction(request);
    trx.initLogEntry(1, ++leaderIndex);
    Message reply = leader.applyTransaction(trx).get();
    return CommandCodec.decodeResults(Wire.body(reply));
  }

  /** A follower applies the same kind of entry from its log. */
  @Benchmark
  public Message followerApply() throws Exception {
    LogEntryProto entry =
        LogEntryProto.newBuilder()
            .setTerm(1)
            .setIndex(++followerIndex)
            .setStateMachineLogEntry(
                StateMachineLogEntryProto.newBuilder()
                    .setLogData(followerEntry)
                    .setClientId(client.toByteString())
                    .setCallId(followerIndex))
            .build();
    TransactionContext trx =
        TransactionContext.newBuilder()
            .setStateMachine(follower)
            .setServerRole(RaftPeerRole.FOLLOWER)
            .setLogEntry(entry)
            .build();
    return follower.applyTransaction(trx).get();
  }
}
