package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.EngineOptions;
import io.libkv.storage.engine.KvEngine;
import io.libkv.storage.engine.ReadView;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batched read query that client-only stores use to coalesce gets: every request of a batch is
 * answered as if sent alone, a malformed request fails only itself, and a malformed batch is
 * answered as malformed without touching the state.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReadBatchTest {
  @TempDir Path dir;
  private KvEngine engine;
  private KvStateMachine machine;

  @BeforeEach
  void open() {
    engine = KvEngine.open(dir, EngineOptions.builder().historySize(64).build());
    EngineState state = new EngineState(engine);
    machine = new KvStateMachine(state, leader -> {});
    List<Command> puts = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      puts.add(new Command.Put("k/" + i, b("v" + i), 0, 0));
    }
    state.apply(1, CommandCodec.encodeCommands(puts));
  }

  @AfterEach
  void close() throws Exception {
    machine.close();
    engine.close();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private Message query(Message m) throws Exception {
    return machine.query(m).get(10, TimeUnit.SECONDS);
  }

  /** The request bytes a remote view sends for {@code fn}, captured instead of sent. */
  private static byte[] requestOf(java.util.function.Consumer<ReadView> fn) {
    byte[][] captured = new byte[1][];
    try {
      fn.accept(
          ReadCodec.remoteView(
              req -> {
                captured[0] = req;
                throw new IllegalStateException("captured");
              }));
    } catch (IllegalStateException expected) {
      // the request was captured
    }
    return captured[0];
  }

  @Test
  void everyRequestOfABatchIsAnsweredAsIfSentAlone() throws Exception {
    List<byte[]> requests = new ArrayList<>();
    for (int i = 0; i < 60; i++) { // 50 present, 10 absent
      String key = "k/" + i;
      requests.add(requestOf(v -> v.get(key)));
    }
    requests.add(requestOf(v -> v.listPrefix("k/1")));
    requests.add(requestOf(ReadView::revision));
    List<Wire.Answer> answers =
        Wire.answers(Wire.body(query(Wire.readBatch(requests))), requests.size());
    assertEquals(requests.size(), answers.size());
    for (int i = 0; i < requests.size(); i++) {
      byte[] alone = Wire.body(query(Wire.read(requests.get(i))));
      assertArrayEquals(alone, answers.get(i).bodyOrThrow(), "request " + i);
    }
    // Decoded through a view, as ClientStores does.
    assertArrayEquals(
        b("v7"), ReadCodec.remoteView(req -> answers.get(7).bodyOrThrow()).get("k/7").value());
    assertNull(ReadCodec.remoteView(req -> answers.get(55).bodyOrThrow()).get("k/55"));
  }

  @Test
  void aMalformedRequestFailsOnlyItself() throws Exception {
    byte[] good = requestOf(v -> v.get("k/3"));
    List<byte[]> requests = List.of(good, new byte[] {99, 1, 2}, new byte[0], good);
    List<Wire.Answer> answers =
        Wire.answers(Wire.body(query(Wire.readBatch(requests))), requests.size());
    assertArrayEquals(Wire.body(query(Wire.read(good))), answers.get(0).bodyOrThrow());
    assertArrayEquals(Wire.body(query(Wire.read(good))), answers.get(3).bodyOrThrow());
    for (int i = 1; i <= 2; i++) {
      Wire.Answer a = answers.get(i);
      IllegalStateException e = assertThrows(IllegalStateException.class, a::bodyOrThrow);
      assertTrue(e.getMessage().contains("rejected the request"), e.getMessage());
    }
  }

  @Test
  void malformedBatchesAreAnsweredAsMalformedAndChangeNothing() throws Exception {
    long seed = Long.getLong("libkv.fuzz.seed", System.nanoTime());
    Random random = new Random(seed);
    byte[] good = Wire.readBatch(List.of(requestOf(v -> v.get("k/1")))).getContent().toByteArray();
    long applied = engine.appliedIndex();
    int malformed = 0;
    for (int run = 0; run < 300; run++) {
      byte[] hostile;
      switch (random.nextInt(3)) {
        case 0 -> hostile = java.util.Arrays.copyOf(good, random.nextInt(good.length));
        case 1 -> {
          // a lying count or length
          hostile = good.clone();
          ByteBuffer.wrap(hostile).putInt(2 + 4 * random.nextInt(2), random.nextInt());
        }
        default -> {
          hostile = java.util.Arrays.copyOf(good, good.length + 1 + random.nextInt(8));
        }
      }
      Message reply = query(Message.valueOf(ByteString.copyFrom(hostile)));
      ByteString c = reply.getContent();
      if (c.byteAt(0) == Wire.STATUS_MALFORMED) {
        malformed++;
      } else {
        // A mutation can still be a well-formed batch; its answers must then decode.
        ByteBuffer h = ByteBuffer.wrap(hostile, 2, hostile.length - 2);
        Wire.answers(Wire.body(reply), h.getInt());
      }
    }
    assertTrue(malformed > 150, "seed " + seed + ": only " + malformed + " of 300 refused");
    assertEquals(applied, engine.appliedIndex());
    assertArrayEquals(b("v1"), engine.read(v -> v.get("k/1")).value());
  }
}
