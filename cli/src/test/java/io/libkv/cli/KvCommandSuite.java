package io.libkv.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code ./libkv kv} does on every backend, run in-process through picocli. Each subclass
 * points it at one backend ({@link #connection()}); every test works under a key prefix of its own,
 * so one server serves the whole class.
 */
abstract class KvCommandSuite {
  static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path files;

  /** This test's key prefix. */
  String root;

  /** The connection options: {@code --backend ...} and where it is. */
  abstract List<String> connection();

  /** Whether {@code watch --after} can replay changes made since (a backend with history). */
  boolean replaysHistory() {
    return true;
  }

  @BeforeEach
  void prefix(TestInfo test) {
    root = "cli/" + test.getTestMethod().orElseThrow().getName();
  }

  /** {@code ./libkv kv SUB <connection> REST...}. */
  String[] kv(String sub, String... rest) {
    List<String> all = new ArrayList<>(List.of("kv", sub));
    all.addAll(connection());
    all.addAll(List.of(rest));
    return all.toArray(String[]::new);
  }

  KvCli.Result run(String sub, String... rest) {
    return KvCli.run(kv(sub, rest));
  }

  long index(String key) {
    return run("get", "--json", key).expect(KvStatus.OK).json().get(0).get("index").asLong();
  }

  @Test
  void putThenGetPrintsTheValueAsTextOrJson() {
    String k = root + "/greeting";
    assertEquals("OK", run("put", k, "hello world").expect(0).out().strip());
    assertEquals("hello world\n", run("get", k).expect(0).out());

    JsonNode pair = run("get", "--json", k).expect(0).json().get(0);
    assertEquals(k, pair.get("key").asText());
    assertEquals("hello world", pair.get("value").asText());
    assertTrue(pair.get("index").asLong() > 0, pair.toString());

    JsonNode put = run("put", "--json", k, "again").expect(0).json().get(0);
    assertEquals("put", put.get("op").asText());
    assertEquals(k, put.get("key").asText());
  }

  @Test
  void aMissingKeyExits3() {
    String k = root + "/absent";
    KvCli.Result get = run("get", k).expect(KvStatus.NOT_FOUND);
    assertEquals("", get.out());
    assertTrue(get.err().contains(k), get.err());
    run("del", k).expect(KvStatus.NOT_FOUND);
    run("ls", k).expect(KvStatus.NOT_FOUND);
  }

  @Test
  void putReadsTheValueFromStandardInputGivenADash() {
    String k = root + "/piped";
    byte[] value = "two\nlines \u00e9".getBytes(UTF_8);
    KvCli.run(value, kv("put", k, "-")).expect(0);
    assertEquals(
        "two\nlines \u00e9", run("get", "--json", k).expect(0).json().get(0).get("value").asText());

    byte[] binary = {(byte) 0xff, 0, (byte) 0xfe};
    KvCli.run(binary, kv("put", k, "-")).expect(0);
    JsonNode pair = run("get", "--json", k).expect(0).json().get(0);
    assertFalse(pair.has("value"), pair.toString());
    assertEquals("/wD+", pair.get("valueBase64").asText());
  }

  @Test
  void lsListsEveryKeyUnderTheDirectoryAtAnyDepth() {
    String d = root + "/dir";
    run("put", d + "/a", "1").expect(0);
    run("put", d + "/b/c", "2").expect(0);
    run("put", d + "/b/e/f", "3").expect(0);
    run("put", root + "/dirx", "outside").expect(0);

    assertEquals(
        List.of(d + "/a\t1", d + "/b/c\t2", d + "/b/e/f\t3"),
        run("ls", d).expect(0).out().lines().toList());
    assertEquals(
        List.of(d + "/a", d + "/b/c", d + "/b/e/f"),
        run("ls", "--keys-only", d).expect(0).out().lines().toList());
    List<JsonNode> json = run("ls", "--json", d).expect(0).json();
    assertEquals(3, json.size(), json.toString());
    assertEquals(d + "/b/e/f", json.get(2).get("key").asText());
    assertEquals("3", json.get(2).get("value").asText());
    assertTrue(json.get(2).get("index").asLong() > json.get(0).get("index").asLong());
  }

  @Test
  void casWritesOnlyOverWhatWasLastSeen() {
    String k = root + "/counter";
    run("put", k, "1").expect(0);
    long seen = index(k);

    long next =
        Long.parseLong(
            run("cas", k, "2", "--prev-index", Long.toString(seen)).expect(0).out().strip());
    assertTrue(next > seen, next + " after " + seen);
    assertEquals(next, index(k));

    KvCli.Result stale =
        run("cas", k, "3", "--prev-index", Long.toString(seen)).expect(KvStatus.CONFLICT);
    assertTrue(stale.err().contains(k), stale.err());
    assertEquals("2\n", run("get", k).expect(0).out());

    JsonNode byValue = run("cas", "--json", k, "3", "--prev-value", "2").expect(0).json().get(0);
    assertEquals("3", byValue.get("value").asText());
    run("cas", k, "4", "--prev-value", "2").expect(KvStatus.CONFLICT);
    run("cas", k, "4", "--create").expect(KvStatus.CONFLICT);
    assertEquals("3\n", run("get", k).expect(0).out());

    run("cas", root + "/fresh", "new", "--create").expect(0);
    run("cas", root + "/gone", "x", "--prev-index", "5").expect(KvStatus.NOT_FOUND);
    run("cas", k, "5").expect(KvStatus.USAGE);
  }

  @Test
  void delRemovesAKeyATreeOrAKeyAsLastSeen() {
    String d = root + "/dir";
    run("put", d + "/a", "1").expect(0);
    run("put", d + "/b/c", "2").expect(0);
    long seen = index(d + "/a");
    run("put", d + "/a", "1b").expect(0);
    run("del", d + "/a", "--prev-index", Long.toString(seen)).expect(KvStatus.CONFLICT);
    run("del", d + "/a", "--prev-index", Long.toString(index(d + "/a"))).expect(0);
    run("get", d + "/a").expect(KvStatus.NOT_FOUND);

    run("put", d + "/a", "again").expect(0);
    run("del", d + "/a").expect(0);
    run("get", d + "/a").expect(KvStatus.NOT_FOUND);

    run("del", "--tree", d).expect(0);
    run("ls", d).expect(KvStatus.NOT_FOUND);
    run("del", "--tree", d).expect(0);
  }

  @Test
  void putWithTtlExpires() {
    String k = root + "/session";
    // A watch keeps the store open meanwhile: an LMDB store counts TTLs only while it is open.
    KvCli.Running watch = KvCli.start(kv("watch", k));
    run("put", "--ttl", "3s", k, "alive").expect(0);
    assertEquals("alive\n", run("get", k).expect(0).out());
    watch.awaitOut(k + " expires", WAIT, out -> out.contains("delete\t" + k + "\t"));
    run("get", k).expect(KvStatus.NOT_FOUND);
    watch.interrupt().finish(WAIT).expect(0);
  }

  @Test
  void watchPrintsEventsUntilInterrupted() {
    String k = root + "/watched";
    KvCli.Running watch = KvCli.start(kv("watch", k));
    run("put", k, "v1").expect(0);
    watch.awaitOut("the put", WAIT, out -> out.contains("put\t" + k + "\t"));
    assertTrue(
        watch.out().lines().anyMatch(l -> l.startsWith("put\t" + k) && l.endsWith("\tv1")),
        watch.out());

    run("del", k).expect(0);
    watch.awaitOut("the delete", WAIT, out -> out.contains("delete\t" + k + "\t"));
    KvCli.Result stopped = watch.interrupt().finish(WAIT);
    assertEquals(KvStatus.OK, stopped.status(), stopped.err());
  }

  @Test
  void watchJsonPrintsOneObjectPerEventAndStopsAfterCount() {
    String k = root + "/watched";
    KvCli.Running watch = KvCli.start(kv("watch", "--json", "--count", "2", k));
    run("put", k, "v1").expect(0);
    watch.awaitOut("the put", WAIT, out -> out.contains("\"put\""));
    run("del", k).expect(0);
    List<JsonNode> events = watch.finish(WAIT).expect(0).json();

    assertEquals(2, events.size(), events.toString());
    assertEquals("put", events.get(0).get("event").asText());
    assertEquals(k, events.get(0).get("key").asText());
    assertEquals("v1", events.get(0).get("value").asText());
    assertEquals("delete", events.get(1).get("event").asText());
    assertFalse(events.get(1).has("value"), events.get(1).toString());
    assertTrue(events.get(1).get("index").asLong() > events.get(0).get("index").asLong());
  }

  @Test
  void watchAfterResumesFromAnIndex() {
    String k = root + "/resumed";
    run("put", k, "a").expect(0);
    long from = index(k);
    run("put", k, "b").expect(0);
    run("put", k, "c").expect(0);
    KvCli.Result r = run("watch", "--json", "--count", "2", "--after", Long.toString(from), k);
    if (!replaysHistory()) {
      r.expect(KvStatus.ERROR);
      assertTrue(r.err().contains("CallNotSupported"), r.err());
      return;
    }
    List<JsonNode> events = r.expect(0).json();
    assertEquals(List.of("b", "c"), events.stream().map(e -> e.get("value").asText()).toList());
  }

  @Test
  void watchTreePrintsTheDirectoryAfterEachChange() {
    String d = root + "/tree";
    KvCli.Running watch = KvCli.start(kv("watch", "--tree", d));
    run("put", d + "/x/y", "1").expect(0);
    watch.awaitOut("the put", WAIT, out -> out.contains("\t" + d + "/x/y\t"));
    KvCli.Result stopped = watch.interrupt().finish(WAIT);
    assertEquals(KvStatus.OK, stopped.status(), stopped.err());
    assertTrue(stopped.out().contains("tree\t" + d + "\t1"), stopped.out());
    run("watch", "--tree", "--after", "1", d).expect(KvStatus.USAGE);
  }

  @Test
  void lockRunsTheCommandWithTheFencingTokenAndExitsWithItsStatus() throws IOException {
    String k = root + "/lock";
    Path seen = files.resolve("seen");
    String script = "printf '%s %s' \"$LIBKV_LOCK_KEY\" \"$LIBKV_FENCING_TOKEN\" > \"$1\"";
    run("lock", k, "--", "sh", "-c", script, "sh", seen.toString()).expect(0);
    String[] first = Files.readString(seen).split(" ");
    assertEquals(k, first[0]);
    long token = Long.parseLong(first[1]);
    assertTrue(token > 0, "token " + token);

    // Released when the command exited: the next holder gets it at once, with a larger token.
    run("lock", "--wait", "20s", k, "--", "sh", "-c", script, "sh", seen.toString()).expect(0);
    long next = Long.parseLong(Files.readString(seen).split(" ")[1]);
    assertTrue(next > token, next + " after " + token);

    run("lock", k, "--", "sh", "-c", "exit 7").expect(7);
    run("lock", k, "--", files.resolve("no-such-command").toString()).expect(KvStatus.CANNOT_RUN);
  }

  @Test
  void lockIsHeldWhileTheCommandRuns() throws IOException {
    String k = root + "/lock";
    Path started = files.resolve("started");
    Path go = files.resolve("go");
    // The command says it runs, then waits for the test's go-ahead (a file).
    String script = "touch \"$1\"; while [ ! -e \"$2\" ]; do sleep 0.05; done";
    KvCli.Running holder =
        KvCli.start(
            kv("lock", k, "--", "sh", "-c", script, "sh", started.toString(), go.toString()));
    KvCli.await("the command under the lock starts", WAIT, () -> Files.exists(started));

    KvCli.Result busy = run("lock", "--wait", "1s", k, "--", "true").expect(KvStatus.CONFLICT);
    assertTrue(busy.err().contains(k), busy.err());

    Files.createFile(go);
    holder.finish(WAIT).expect(0);
    run("lock", "--wait", "20s", k, "--", "true").expect(0);
  }
}
