package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.CommandResult;
import io.libkv.storage.engine.EngineOptions;
import io.libkv.storage.engine.EngineStore;
import io.libkv.storage.engine.HistoryPage;
import io.libkv.storage.engine.KvEngine;
import io.libkv.storage.engine.KvReader;
import io.libkv.storage.engine.ReadView;
import io.libkv.storage.engine.WatchHub;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.Watch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reads of a client-only store are each one query answered from one snapshot. A member's engine
 * serves the queries, and a writer that commits between two queries is simulated deterministically:
 * after answering each query, the member applies the next write queued in {@link #between}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClientReadSnapshotTest {
  @TempDir Path dir;
  private KvEngine engine;
  private EngineState state;
  private long index;
  private int queries;

  /** Writes applied one per query, right after the query is answered. */
  private final Queue<List<Command>> between = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void open() {
    engine = KvEngine.open(dir, EngineOptions.builder().historySize(64).build());
    state = new EngineState(engine);
  }

  @AfterEach
  void close() {
    engine.close();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Command put(String key, String value) {
    return new Command.Put(key, b(value), 0, 0);
  }

  private synchronized CommandResult apply(Command... commands) {
    byte[] results = state.apply(++index, CommandCodec.encodeCommands(Arrays.asList(commands)));
    return CommandCodec.decodeResults(results).get(0);
  }

  /** The member's side: answers the query, then a concurrent writer commits. */
  private synchronized byte[] send(byte[] request) {
    queries++;
    byte[] reply = state.query(request);
    List<Command> w = between.poll();
    if (w != null) {
      apply(w.toArray(new Command[0]));
    }
    return reply;
  }

  private KvReader clientReader() {
    return ReadCodec.reader(this::send);
  }

  /** A store wired as {@link ClientStores} wires one, over {@link #send}. */
  private EngineStore clientStore() {
    KvReader reader = clientReader();
    WatchHub hub = new WatchHub(reader, "client-test", Duration.ofMillis(5));
    return new EngineStore(
        "client-test",
        c -> CompletableFuture.completedFuture(apply(c)),
        reader,
        hub,
        Config.defaults(),
        closed -> hub.close());
  }

  @Test
  void listReadsTheDirectoryAndItsKeyFromOneSnapshot() {
    apply(put("d", "dir"));
    // Between two queries, the directory's key goes and a child comes: it exists throughout.
    between.add(List.of(new Command.Delete("d"), put("d/a", "a")));
    try (EngineStore store = clientStore()) {
      assertEquals(List.of(), store.list("d"));
      assertEquals(List.of("d/a"), store.list("d").stream().map(KVPair::key).toList());
    }
  }

  @Test
  void aHistoryPageAndTheRevisionAfterItComeFromOneSnapshot() {
    apply(put("k", "v1"));
    apply(put("k", "v2"));
    between.add(List.of(put("k", "v3")));
    // What the watch hub's poll reads: a page, then the revision it compares the page's end with.
    long[] seen =
        clientReader()
            .read(
                v -> {
                  HistoryPage p = v.changesAfter(0, 1000);
                  return new long[] {p.scannedTo(), v.revision(), p.changes().size()};
                });
    assertEquals(2, seen[2]);
    assertEquals(seen[0], seen[1], "the page ends at its snapshot's revision");
    assertEquals(1, queries);
  }

  @Test
  void aKeyWatchStartsFromOneSnapshotAndSeesEveryLaterStateOnce() throws Exception {
    apply(put("k", "v0"));
    for (int i = 1; i <= 6; i++) {
      between.add(List.of(put("k", "v" + i)));
    }
    try (EngineStore store = clientStore();
        Watch<KVPair> w = store.watch("k")) {
      List<KVPair> events =
          takeUntil(w, p -> "v6".equals(new String(p.value(), StandardCharsets.UTF_8)));
      for (int i = 1; i < events.size(); i++) {
        assertTrue(
            events.get(i).lastIndex() > events.get(i - 1).lastIndex(),
            "each state once, in order: " + events);
      }
    }
  }

  @Test
  void aTreeWatchStartsFromOneSnapshotAndListsEachLaterRevisionOnce() throws Exception {
    apply(put("t/a", "0"));
    for (int i = 1; i <= 6; i++) {
      between.add(List.of(put("t/a", String.valueOf(i))));
    }
    try (EngineStore store = clientStore();
        Watch<List<KVPair>> w = store.watchTree("t")) {
      List<List<KVPair>> lists =
          takeUntil(
              w,
              l ->
                  l.size() == 1
                      && "6".equals(new String(l.get(0).value(), StandardCharsets.UTF_8)));
      for (int i = 1; i < lists.size(); i++) {
        assertTrue(
            lists.get(i).get(0).lastIndex() > lists.get(i - 1).get(0).lastIndex(),
            "each revision's list once, in order: " + lists);
      }
    }
  }

  @Test
  void aWatchResumedBeforeTheHistoryNamesTheKeyAndTheOldestIndexKept() throws Exception {
    // 64 changes kept: after 100 puts, the first ones are gone.
    for (int i = 1; i <= 100; i++) {
      apply(put("h", "v" + i));
    }
    try (EngineStore store = clientStore()) {
      io.libkv.store.HistoryCompactedException e =
          assertThrows(io.libkv.store.HistoryCompactedException.class, () -> store.watch("h", 5));
      assertEquals("h", e.key());
      assertEquals(5, e.requestedAfter());
      long oldest = e.oldestAvailable();
      assertTrue(oldest > 5, e.getMessage());
      try (Watch<KVPair> w = store.watch("h", oldest - 1)) {
        // Revisions of this backend step by 65,536 per log entry: the next change is at or above.
        long first = w.poll(Duration.ofSeconds(20)).lastIndex();
        assertTrue(first >= oldest && first < oldest + 65_536, first + " after " + oldest);
      }
    }
  }

  private static <T> List<T> takeUntil(Watch<T> w, java.util.function.Predicate<T> last)
      throws InterruptedException {
    List<T> events = new ArrayList<>();
    while (true) {
      T e = w.poll(Duration.ofSeconds(20));
      assertNotNull(e, "no further event; so far: " + events);
      events.add(e);
      if (last.test(e)) {
        return events;
      }
    }
  }

  @Test
  void aReadFunctionMakingASecondRequestIsRefused() {
    apply(put("a", "1"), put("b", "2"));
    KvReader reader = clientReader();
    assertThrows(
        IllegalStateException.class,
        () ->
            reader.read(
                v -> {
                  v.get("a");
                  return v.get("b");
                }));
    assertThrows(
        IllegalStateException.class,
        () ->
            reader.read(
                v -> {
                  v.revision();
                  return v.listPrefix("");
                }));
    assertEquals(2, queries);
  }

  /** The request bytes a remote view sends for {@code fn}, captured instead of sent. */
  private static byte[] requestOf(Consumer<ReadView> fn) {
    byte[][] captured = new byte[1][];
    Function<byte[], byte[]> capture =
        req -> {
          captured[0] = req;
          throw new IllegalStateException("captured");
        };
    assertThrows(IllegalStateException.class, () -> fn.accept(ReadCodec.remoteView(capture)));
    return captured[0];
  }

  @Test
  void requestsThatDoNotDecodeExactlyAreAnsweredAsMalformed() throws Exception {
    apply(put("k", "v"));
    byte[] get = requestOf(v -> v.get("k"));
    byte[] keyChanges = requestOf(v -> v.keyChangesAfter("k", 0));
    List<byte[]> bad =
        List.of(
            new byte[0],
            new byte[] {99},
            new byte[] {ReadCodec.GET},
            Arrays.copyOf(get, get.length + 1),
            Arrays.copyOf(keyChanges, keyChanges.length - 3),
            requestOf(v -> v.changesAfter(0, 0)));
    try (KvStateMachine machine = new KvStateMachine(state, leader -> {})) {
      for (byte[] r : bad) {
        assertThrows(MalformedEntryException.class, () -> state.query(r), Arrays.toString(r));
        ByteString reply = machine.query(Wire.read(r)).get(10, TimeUnit.SECONDS).getContent();
        assertEquals(Wire.STATUS_MALFORMED, reply.byteAt(0), Arrays.toString(r));
      }
      // A read of the earlier kind, whose reply had no snapshot header, is refused by kind.
      Message old =
          Message.valueOf(
              ByteString.copyFrom(new byte[] {Wire.VERSION, 2}).concat(ByteString.copyFrom(get)));
      assertEquals(
          Wire.STATUS_MALFORMED,
          machine.query(old).get(10, TimeUnit.SECONDS).getContent().byteAt(0));
      // The member still answers well-formed reads.
      assertEquals(
          "v",
          new String(ReadCodec.remoteView(state::query).get("k").value(), StandardCharsets.UTF_8));
    }
  }
}
