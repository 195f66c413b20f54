package io.libkv.consul;

import static io.libkv.consul.RecordedConsul.entryJson;
import static io.libkv.consul.RecordedConsul.txnFailed;
import static io.libkv.consul.RecordedConsul.txnOk;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.CallNotSupportedException;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.KeyExistsException;
import io.libkv.store.KeyModifiedException;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.NotReachableException;
import io.libkv.store.PreviousNotSpecifiedException;
import io.libkv.store.Store;
import io.libkv.store.StoreException;
import io.libkv.store.WriteOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Protocol tests of the KV mapping against <b>recorded API shapes</b>: a local HTTP server ({@link
 * RecordedConsul}) answers with request/response pairs shaped as Consul's HTTP API docs give them,
 * and the tests check the requests the adapter builds (method, path, query, headers, JSON body) and
 * how it reads the answers. This is not a test against Consul: the semantics of a real agent are
 * checked only by {@link ConsulStoreConformanceIT}, when one is available.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ConsulProtocolTest {
  static final Duration WAIT = Duration.ofSeconds(5);
  static final ObjectMapper JSON = new ObjectMapper();

  RecordedConsul consul;
  Store store;

  @BeforeEach
  void start() throws IOException {
    consul = new RecordedConsul();
    consul.on("GET", "/v1/status/leader").always(200, "\"127.0.0.1:8300\"");
  }

  @AfterEach
  void stop() {
    try {
      if (store != null) {
        store.close();
      }
      assertEquals(List.of(), consul.unexpected(), "requests nobody scripted");
    } finally {
      consul.close();
    }
  }

  Store open(Config config) {
    store = LibKV.newStore(Backend.CONSUL, List.of(consul.endpoint()), config);
    return store;
  }

  Store open() {
    // Generous: the build machine may be heavily loaded; tests of the timeout set their own.
    return open(Config.builder().connectionTimeout(Duration.ofSeconds(5)).build());
  }

  static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(b(s));
  }

  /** Parses a txn body into its list of KV ops. */
  static JsonNode txnOps(RecordedConsul.Request r) throws IOException {
    assertEquals("PUT", r.method());
    assertEquals("/v1/txn", r.path());
    JsonNode ops = JSON.readTree(r.body());
    assertTrue(ops.isArray(), "txn body is a JSON array");
    return ops;
  }

  static void assertOp(JsonNode op, String verb, String key) {
    assertEquals(verb, op.path("KV").path("Verb").asText(), op.toString());
    assertEquals(key, op.path("KV").path("Key").asText(), op.toString());
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  void openChecksTheLeaderAndSendsTheAclTokenAsXConsulToken() throws Exception {
    open(Config.builder().password("s3cr3t").build());
    RecordedConsul.Request r = consul.nextMatching("GET", "/v1/status/leader", WAIT);
    assertEquals("s3cr3t", r.header("X-Consul-Token"));
    assertNull(r.header("Authorization"));
  }

  @Test
  void bearerOptionSendsTheTokenAsAuthorizationAndDcIsAddedToEveryRequest() throws Exception {
    consul.on("GET", "/v1/status/leader?dc=dc2").reply(200, "\"127.0.0.1:8300\"");
    consul.on("GET", "/v1/kv/a?dc=dc2").reply(404, "", "X-Consul-Index", "3");
    open(
        Config.builder()
            .password("tok")
            .option("consul.tokenHeader", "bearer")
            .option("consul.datacenter", "dc2")
            .build());
    assertFalse(store.exists("a"));
    RecordedConsul.Request r = consul.nextMatching("GET", "/v1/kv/a?dc=dc2", WAIT);
    assertEquals("Bearer tok", r.header("Authorization"));
    assertNull(r.header("X-Consul-Token"));
  }

  @Test
  void unknownOptionsAndBadEndpointsAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> open(Config.builder().option("consul.nope", "1").build()));
    assertThrows(
        IllegalArgumentException.class,
        () -> LibKV.newStore(Backend.CONSUL, List.of("http://h:1/some/path"), null));
    assertThrows(
        IllegalArgumentException.class,
        () -> open(Config.builder().option("consul.tokenHeader", "cookie").build()));
  }

  @Test
  void getReadsTheDocumentedEntryShape() {
    consul
        .on("GET", "/v1/kv/zip")
        .reply(
            200,
            "["
                + entryJson("zip", "test", 100, 200, 200, 0, "adf4238a-882b-9ddc-4a9d-5b6758e4159e")
                + "]",
            "X-Consul-Index",
            "200",
            "X-Consul-Knownleader",
            "true");
    open();
    KVPair p = store.get("/zip/");
    assertEquals(new KVPair("zip", b("test"), 200), p);
  }

  @Test
  void nullValueIsAnEmptyValueAndKeysArePercentEncoded() throws Exception {
    consul
        .on("GET", "/v1/kv/a%20b/%C3%A9%3F%23%25")
        .reply(
            200, "[" + entryJson("a b/é?#%", null, 5, 6, 0, 0, null) + "]", "X-Consul-Index", "6");
    open();
    KVPair p = store.get("a b/é?#%");
    assertArrayEquals(new byte[0], p.value());
    assertEquals(6, p.lastIndex());
  }

  @Test
  void missingKeyIs404AndKeyNotFound() {
    consul.on("GET", "/v1/kv/nope").always(404, "", "X-Consul-Index", "9");
    open();
    KeyNotFoundException e = assertThrows(KeyNotFoundException.class, () -> store.get("nope"));
    assertEquals("nope", e.key());
    assertFalse(store.exists("nope"));
  }

  @Test
  void putReadsThenWritesInOneCheckedTransaction() throws Exception {
    consul.on("GET", "/v1/kv/k").reply(404, "", "X-Consul-Index", "4");
    consul.on("PUT", "/v1/txn").reply(200, txnOk(entryJson("k", null, 7, 7, 0, 0, null)));
    open();
    store.put("k", b("v1"), null);
    consul.nextMatching("GET", "/v1/kv/k", WAIT);
    JsonNode ops = txnOps(consul.nextMatching("PUT", "/v1/txn", WAIT));
    assertEquals(2, ops.size());
    assertOp(ops.get(0), "check-not-exists", "k");
    assertOp(ops.get(1), "set", "k");
    assertEquals(b64("v1"), ops.get(1).path("KV").path("Value").asText());
  }

  @Test
  void putRetriesWhenAConcurrentWriterWinsTheCheck() throws Exception {
    consul
        .on("GET", "/v1/kv/k")
        .reply(200, "[" + entryJson("k", "a", 3, 3, 0, 0, null) + "]", "X-Consul-Index", "3")
        .reply(200, "[" + entryJson("k", "b", 3, 8, 0, 0, null) + "]", "X-Consul-Index", "8");
    consul
        .on("PUT", "/v1/txn")
        .reply(409, txnFailed(0, "failed to check index of key \\\"k\\\""))
        .reply(200, txnOk(entryJson("k", null, 3, 9, 0, 0, null)));
    open();
    store.put("k", b("c"), null);
    JsonNode first = txnOps(consul.nextMatching("PUT", "/v1/txn", WAIT));
    assertOp(first.get(0), "check-index", "k");
    assertEquals(3, first.get(0).path("KV").path("Index").asLong());
    JsonNode second = txnOps(consul.nextMatching("PUT", "/v1/txn", WAIT));
    assertEquals(8, second.get(0).path("KV").path("Index").asLong());
  }

  @Test
  void putWithoutTtlReleasesAKeyFromItsTtlSession() throws Exception {
    String ttlSession = "11111111-2222-3333-4444-555555555555";
    consul
        .on("GET", "/v1/kv/k")
        .reply(
            200,
            "[" + entryJson("k", "old", 3, 5, 1, ConsulStore.TTL_FLAG, ttlSession) + "]",
            "X-Consul-Index",
            "5");
    consul.on("PUT", "/v1/txn").reply(200, txnOk(entryJson("k", null, 3, 6, 1, 0, null)));
    consul.on("PUT", "/v1/session/destroy/" + ttlSession).reply(200, "true");
    open();
    store.put("k", b("new"), null);
    JsonNode ops = txnOps(consul.nextMatching("PUT", "/v1/txn", WAIT));
    assertOp(ops.get(0), "check-index", "k");
    assertOp(ops.get(1), "unlock", "k");
    assertEquals(ttlSession, ops.get(1).path("KV").path("Session").asText());
    assertOp(ops.get(2), "set", "k");
    consul.nextMatching("PUT", "/v1/session/destroy/" + ttlSession, WAIT);
  }

  @Test
  void putWithTtlUsesADeleteSessionOfHalfTheTtl() throws Exception {
    String sid = "adf4238a-882b-9ddc-4a9d-5b6758e4159e";
    consul.on("PUT", "/v1/session/create").reply(200, "{\"ID\":\"" + sid + "\"}");
    consul.on("GET", "/v1/kv/t").reply(404, "", "X-Consul-Index", "4");
    consul
        .on("PUT", "/v1/txn")
        .reply(200, txnOk(entryJson("t", null, 10, 10, 1, ConsulStore.TTL_FLAG, sid)));
    open();
    store.put("t", b("v"), WriteOptions.ttl(Duration.ofSeconds(30)));
    JsonNode session = JSON.readTree(consul.nextMatching("PUT", "/v1/session/create", WAIT).body());
    assertEquals("15000ms", session.path("TTL").asText());
    assertEquals("delete", session.path("Behavior").asText());
    assertEquals("1ms", session.path("LockDelay").asText());
    JsonNode ops = txnOps(consul.nextMatching("PUT", "/v1/txn", WAIT));
    assertOp(ops.get(0), "check-not-exists", "t");
    assertOp(ops.get(1), "lock", "t");
    assertEquals(sid, ops.get(1).path("KV").path("Session").asText());
    assertEquals(ConsulStore.TTL_FLAG, ops.get(1).path("KV").path("Flags").asLong());
  }

  @Test
  void ttlShorterThanTwiceConsulsMinimumSessionIsNotSupported() throws Exception {
    open();
    CallNotSupportedException e =
        assertThrows(
            CallNotSupportedException.class,
            () -> store.put("t", b("v"), WriteOptions.ttl(Duration.ofSeconds(19))));
    assertEquals(Backend.CONSUL, e.backend());
    assertTrue(e.getMessage().contains("20S"), e.getMessage());
    assertTrue(
        consul.all().stream().noneMatch(r -> r.path().startsWith("/v1/session")),
        "no session created for a refused TTL");
  }

  @Test
  void failedWriteDestroysTheTtlSessionItCreated() throws Exception {
    String sid = "aaaaaaaa-882b-9ddc-4a9d-5b6758e4159e";
    consul.on("PUT", "/v1/session/create").reply(200, "{\"ID\":\"" + sid + "\"}");
    consul
        .on("GET", "/v1/kv/t")
        .reply(200, "[" + entryJson("t", "x", 2, 2, 1, 0, "lock-session") + "]");
    consul.on("PUT", "/v1/session/destroy/" + sid).reply(200, "true");
    open();
    StoreException e =
        assertThrows(
            StoreException.class,
            () -> store.put("t", b("v"), WriteOptions.ttl(Duration.ofSeconds(20))));
    assertTrue(e.getMessage().contains("held by session lock-session"), e.getMessage());
    consul.nextMatching("PUT", "/v1/session/destroy/" + sid, WAIT);
  }

  @Test
  void atomicPutReturnsTheIndexOfItsOwnWrite() throws Exception {
    consul.on("GET", "/v1/kv/k").reply(200, "[" + entryJson("k", "a", 3, 5, 0, 0, null) + "]");
    consul.on("PUT", "/v1/txn").reply(200, txnOk(entryJson("k", null, 3, 12, 0, 0, null)));
    open();
    KVPair p = store.atomicPut("k", b("b"), new KVPair("k", b("a"), 5), null);
    assertEquals(new KVPair("k", b("b"), 12), p);
    JsonNode ops = txnOps(consul.nextMatching("PUT", "/v1/txn", WAIT));
    assertOp(ops.get(0), "check-index", "k");
    assertEquals(5, ops.get(0).path("KV").path("Index").asLong());
  }

  @Test
  void atomicPutTellsModifiedFromNotFoundFromExists() {
    consul
        .on("GET", "/v1/kv/k")
        .reply(200, "[" + entryJson("k", "a", 3, 7, 0, 0, null) + "]")
        .reply(404, "")
        .reply(200, "[" + entryJson("k", "a", 3, 7, 0, 0, null) + "]");
    open();
    KeyModifiedException m =
        assertThrows(
            KeyModifiedException.class,
            () -> store.atomicPut("k", b("b"), new KVPair("k", b("a"), 5), null));
    assertEquals(5, m.expectedIndex());
    assertEquals(7, m.actualIndex());
    assertThrows(
        KeyNotFoundException.class,
        () -> store.atomicPut("k", b("b"), new KVPair("k", b("a"), 5), null));
    assertThrows(KeyExistsException.class, () -> store.atomicPut("k", b("b"), null, null));
    assertTrue(consul.all().stream().noneMatch(r -> r.path().equals("/v1/txn")));
  }

  @Test
  void atomicPutCasFailureIsResolvedByAFreshRead() throws Exception {
    consul
        .on("GET", "/v1/kv/k")
        .reply(200, "[" + entryJson("k", "a", 3, 5, 0, 0, null) + "]")
        .reply(200, "[" + entryJson("k", "z", 3, 6, 0, 0, null) + "]");
    consul.on("PUT", "/v1/txn").reply(409, txnFailed(0, "failed to check index"));
    open();
    KeyModifiedException m =
        assertThrows(
            KeyModifiedException.class,
            () -> store.atomicPut("k", b("b"), new KVPair("k", b("a"), 5), null));
    assertEquals(6, m.actualIndex());
  }

  @Test
  void atomicDeleteMapsTheTransactionOutcome() throws Exception {
    consul
        .on("PUT", "/v1/txn")
        .reply(200, txnOk())
        .reply(409, txnFailed(0, "failed to check index"))
        .reply(409, txnFailed(0, "failed to check index"));
    consul
        .on("GET", "/v1/kv/k")
        .reply(404, "")
        .reply(200, "[" + entryJson("k", "a", 3, 9, 0, 0, null) + "]");
    open();
    assertThrows(PreviousNotSpecifiedException.class, () -> store.atomicDelete("k", null));
    assertTrue(store.atomicDelete("k", new KVPair("k", b("a"), 4)));
    JsonNode ops = txnOps(consul.nextMatching("PUT", "/v1/txn", WAIT));
    assertOp(ops.get(0), "check-index", "k");
    assertEquals(4, ops.get(0).path("KV").path("Index").asLong());
    assertOp(ops.get(1), "delete", "k");
    assertThrows(
        KeyNotFoundException.class, () -> store.atomicDelete("k", new KVPair("k", b("a"), 4)));
    KeyModifiedException m =
        assertThrows(
            KeyModifiedException.class, () -> store.atomicDelete("k", new KVPair("k", b("a"), 4)));
    assertEquals(9, m.actualIndex());
  }

  @Test
  void deleteIsGetAndDeleteInOneTransaction() throws Exception {
    consul
        .on("PUT", "/v1/txn")
        .reply(200, txnOk(entryJson("k", "a", 3, 9, 0, 0, null)))
        .reply(409, txnFailed(0, "key \\\"k\\\" doesn't exist"));
    open();
    store.delete("k");
    JsonNode ops = txnOps(consul.nextMatching("PUT", "/v1/txn", WAIT));
    assertOp(ops.get(0), "get", "k");
    assertOp(ops.get(1), "delete", "k");
    assertThrows(KeyNotFoundException.class, () -> store.delete("k"));
  }

  @Test
  void listIsSortedFullKeysWithoutFolderMarkersOrInternalKeys() {
    consul
        .on("GET", "/v1/kv/d/?recurse")
        .reply(
            200,
            "["
                + entryJson("d/b", "2", 4, 4, 0, 0, null)
                + ","
                + entryJson("d/", null, 1, 1, 0, 0, null)
                + ","
                + entryJson("d/a/x", "1", 3, 3, 0, 0, null)
                + ","
                + entryJson("d/a", "0", 2, 2, 0, 0, null)
                + "]",
            "X-Consul-Index",
            "4");
    open();
    List<KVPair> l = store.list("d");
    assertEquals(List.of("d/a", "d/a/x", "d/b"), l.stream().map(KVPair::key).toList());
    assertEquals(List.of(2L, 3L, 4L), l.stream().map(KVPair::lastIndex).toList());
  }

  @Test
  void listOfAnExistingLeafIsEmptyAndOfNothingIsKeyNotFound() {
    consul.on("GET", "/v1/kv/d/?recurse").always(404, "", "X-Consul-Index", "4");
    consul
        .on("GET", "/v1/kv/d")
        .reply(200, "[" + entryJson("d", "v", 2, 2, 0, 0, null) + "]")
        .reply(404, "");
    open();
    assertEquals(List.of(), store.list("d"));
    assertThrows(KeyNotFoundException.class, () -> store.list("d"));
  }

  @Test
  void internalKeysAreReserved() {
    open();
    assertThrows(IllegalArgumentException.class, () -> store.put("__libkv/x", b("v"), null));
    assertThrows(IllegalArgumentException.class, () -> store.list("__libkv"));
  }

  @Test
  void deleteTreeDeletesThePrefixAndTheKeyInOneTransaction() throws Exception {
    consul.on("PUT", "/v1/txn").reply(200, txnOk());
    open();
    store.deleteTree("/d/");
    JsonNode ops = txnOps(consul.nextMatching("PUT", "/v1/txn", WAIT));
    assertOp(ops.get(0), "delete-tree", "d/");
    assertOp(ops.get(1), "delete", "d");
  }

  @Test
  void watchFromAnIndexIsNotSupported() {
    open();
    assertThrows(CallNotSupportedException.class, () -> store.watch("k", 5));
  }

  @Test
  void httpErrorsAreMappedInOnePlace() {
    consul.on("GET", "/v1/kv/acl").reply(403, "Permission denied");
    consul.on("GET", "/v1/kv/big").reply(404, "");
    consul.on("PUT", "/v1/txn").reply(413, "Value exceeds 524288 byte limit");
    consul.on("GET", "/v1/kv/leaderless").reply(500, "No cluster leader");
    open();
    StoreException denied = assertThrows(StoreException.class, () -> store.get("acl"));
    assertTrue(denied.getMessage().contains("Permission denied"), denied.getMessage());
    assertThrows(IllegalArgumentException.class, () -> store.put("big", b("x"), null));
    assertThrows(NotReachableException.class, () -> store.get("leaderless"));
  }

  @Test
  void refusedConnectionIsNotReachableWithinTheTimeout() throws Exception {
    int dead = deadPort();
    long start = System.nanoTime();
    NotReachableException e =
        assertThrows(
            NotReachableException.class,
            () ->
                LibKV.newStore(
                    Backend.CONSUL,
                    List.of("127.0.0.1:" + dead),
                    Config.builder().connectionTimeout(Duration.ofSeconds(1)).build()));
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3));
    assertEquals(List.of("http://127.0.0.1:" + dead), e.endpoints());
  }

  @Test
  void aSilentAgentIsNotReachableWithinTheTimeout() throws Exception {
    consul
        .on("GET", "/v1/kv/slow")
        .replyWhen(new java.util.concurrent.CompletableFuture<>(), 200, "[]");
    open(Config.builder().connectionTimeout(Duration.ofSeconds(2)).build());
    long start = System.nanoTime();
    assertThrows(NotReachableException.class, () -> store.get("slow"));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(tookMs >= 1_900 && tookMs < 6_000, "gave up after the 2 s timeout: " + tookMs);
  }

  @Test
  void theNextEndpointIsTriedWhenOneRefusesConnections() throws Exception {
    consul.on("GET", "/v1/kv/k").reply(200, "[" + entryJson("k", "v", 1, 1, 0, 0, null) + "]");
    store =
        LibKV.newStore(
            Backend.CONSUL,
            List.of("127.0.0.1:" + deadPort(), "http://" + consul.endpoint()),
            Config.builder().connectionTimeout(Duration.ofSeconds(5)).build());
    assertEquals(1, store.get("k").lastIndex());
  }

  @Test
  void storeMethodsFailAfterClose() {
    open();
    store.close();
    store.close();
    StoreException e = assertThrows(StoreException.class, () -> store.get("k"));
    assertInstanceOf(StoreException.class, e);
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
  }

  static int deadPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
