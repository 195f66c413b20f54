package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.EngineOptions;
import io.libkv.storage.engine.KvEngine;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile read-only queries fed to the embedded state machine ({@link KvStateMachine#query} over
 * {@link Wire} and {@link ReadCodec}, over a real LMDB engine), as any client that speaks Ratis
 * could send them: noise, truncated, bit-flipped and lengthened valid queries of every kind. Each
 * must be answered, as data or as a malformed-request reply, never by a failed future or an
 * exception; nothing changes; the machine answers valid queries afterwards. Seeded: the seed is
 * printed and {@code -Dlibkv.fuzz.seed=N} replays a run.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KvStateMachineHostileQueryTest {
  private static final int RUNS = 2000;

  @TempDir Path dir;
  private KvEngine engine;
  private KvStateMachine machine;

  @BeforeEach
  void open() {
    engine = KvEngine.open(dir, EngineOptions.builder().historySize(64).build());
    EngineState state = new EngineState(engine);
    state.apply(
        1,
        CommandCodec.encodeCommands(
            List.of(
                new Command.Put("app/config", b("v1"), 0, 0),
                new Command.Put("app/leader", b("n1"), 0, 0))));
    machine = new KvStateMachine(state, leader -> {});
  }

  @AfterEach
  void close() throws Exception {
    machine.close();
    engine.close();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] request(int op, Object... args) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream d = new DataOutputStream(bytes);
      d.writeByte(op);
      for (Object a : args) {
        if (a instanceof String s) {
          d.writeUTF(s);
        } else if (a instanceof Long l) {
          d.writeLong(l);
        } else {
          d.writeInt((Integer) a);
        }
      }
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static List<byte[]> validQueries() {
    List<byte[]> reads =
        List.of(
            request(ReadCodec.GET, "app/config"),
            request(ReadCodec.LIST, "app"),
            request(ReadCodec.LIST_DIR, "app"),
            request(ReadCodec.META),
            request(ReadCodec.CHANGES, 0L, 10),
            request(ReadCodec.KEY_CHANGES, "app/config", 0L),
            request(ReadCodec.LEASES));
    List<byte[]> out = new java.util.ArrayList<>();
    for (byte[] r : reads) {
      out.add(Wire.read(r).getContent().toByteArray());
    }
    out.add(Wire.readBatch(reads).getContent().toByteArray());
    out.add(Wire.barrier().getContent().toByteArray());
    out.add(Wire.exportBegin().getContent().toByteArray());
    out.add(Wire.exportChunk(new byte[16], 0, 100).getContent().toByteArray());
    return out;
  }

  /** Sends {@code q}; fails the test unless it is answered (OK or malformed); returns the reply. */
  private Message ask(byte[] q, String what) throws Exception {
    CompletableFuture<Message> f;
    try {
      f = machine.query(Message.valueOf(ByteString.copyFrom(q)));
    } catch (RuntimeException e) {
      throw new AssertionError(what + ": query threw instead of answering", e);
    }
    try {
      Message m = f.get(10, TimeUnit.SECONDS);
      ByteString c = m.getContent();
      assertTrue(
          !c.isEmpty() && (c.byteAt(0) == Wire.STATUS_OK || c.byteAt(0) == Wire.STATUS_MALFORMED),
          what + ": reply is neither OK nor malformed");
      return m;
    } catch (ExecutionException e) {
      fail(what + ": the query's future failed instead of answering: " + e.getCause(), e);
      return null;
    }
  }

  private String fingerprint() {
    return engine.read(v -> v.appliedIndex() + "/" + v.revision() + "/" + v.listPrefix(""));
  }

  @Test
  void hostileQueriesAreAnsweredAndChangeNothing() throws Exception {
    long seed = Long.getLong("libkv.fuzz.seed", System.nanoTime());
    System.out.println("KvStateMachineHostileQueryTest seed " + seed);
    Random random = new Random(seed);
    List<byte[]> valid = validQueries();
    String before = fingerprint();
    int malformed = 0;
    for (int run = 0; run < RUNS; run++) {
      byte[] q = hostile(random, valid.get(random.nextInt(valid.size())));
      String what = "seed " + seed + ", run " + run + ", query " + HexFormat.of().formatHex(q);
      Message reply = ask(q, what);
      if (reply.getContent().byteAt(0) == Wire.STATUS_MALFORMED) {
        malformed++;
      }
    }
    assertTrue(malformed > RUNS / 3, "seed " + seed + ": only " + malformed + " refused");
    assertEquals(before, fingerprint(), "a query changed the data");
    // Still serving.
    byte[] get = Wire.read(request(ReadCodec.GET, "app/config")).getContent().toByteArray();
    Message ok = ask(get, "a valid get after the fuzzing");
    assertEquals(Wire.STATUS_OK, ok.getContent().byteAt(0));
    String body = new String(Wire.body(ok), StandardCharsets.ISO_8859_1);
    assertTrue(body.contains("app/config") && body.contains("v1"), "the get still reads the value");
  }

  private static byte[] hostile(Random random, byte[] good) {
    switch (random.nextInt(5)) {
      case 0:
        {
          byte[] noise = new byte[random.nextInt(64)];
          random.nextBytes(noise);
          if (noise.length >= 2 && random.nextBoolean()) {
            noise[0] = Wire.VERSION;
          }
          return noise;
        }
      case 1:
        return Arrays.copyOf(good, random.nextInt(good.length + 1));
      case 2:
        {
          byte[] flipped = good.clone();
          for (int i = 1 + random.nextInt(3); i > 0; i--) {
            flipped[random.nextInt(flipped.length)] ^= (byte) (1 + random.nextInt(255));
          }
          return flipped;
        }
      case 3:
        {
          byte[] longer = Arrays.copyOf(good, good.length + 1 + random.nextInt(8));
          longer[good.length + random.nextInt(longer.length - good.length)] = (byte) 0x7f;
          return longer;
        }
      default:
        {
          // A lying length or count field: overwrite four bytes after the header with a large int.
          byte[] lying = good.clone();
          if (lying.length >= 7) {
            int at = 2 + random.nextInt(lying.length - 5);
            int v = random.nextBoolean() ? Integer.MAX_VALUE : -1 - random.nextInt(1000);
            lying[at] = (byte) (v >>> 24);
            lying[at + 1] = (byte) (v >>> 16);
            lying[at + 2] = (byte) (v >>> 8);
            lying[at + 3] = (byte) v;
          }
          return lying;
        }
    }
  }
}
