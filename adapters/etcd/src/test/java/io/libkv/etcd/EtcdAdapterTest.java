package io.libkv.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.common.exception.EtcdExceptionFactory;
import io.grpc.Status;
import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.NotReachableException;
import io.libkv.store.StoreException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The parts of the etcd adapter that need no server: endpoints, lease rounding, error mapping. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EtcdAdapterTest {
  private static final List<String> EPS = List.of("127.0.0.1:2379");
  private final EtcdErrors errors = new EtcdErrors(EPS, "alice", Duration.ofMillis(200));
  private final EtcdErrors anonymous = new EtcdErrors(EPS, null, Duration.ofMillis(200));

  @Test
  void endpointsMayBeHostPortOrUrls() {
    assertEquals(
        List.of(URI.create("http://127.0.0.1:2379"), URI.create("http://h:1")),
        EtcdConnector.parseEndpoints(List.of("127.0.0.1:2379", "http://h:1"), false));
    assertEquals(
        List.of(URI.create("https://h:1"), URI.create("https://k:2")),
        EtcdConnector.parseEndpoints(List.of("https://h:1", "k:2"), true));
    assertEquals(
        List.of(URI.create("https://h:1")),
        EtcdConnector.parseEndpoints(List.of("https://h:1"), false));
  }

  @Test
  void badEndpointsAreRefusedNamingTheProblem() {
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> EtcdConnector.parseEndpoints(List.of(), false))
            .getMessage()
            .contains("at least one endpoint"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> EtcdConnector.parseEndpoints(List.of("http://a:1", "https://b:2"), false))
            .getMessage()
            .contains("mix"));
    for (String bad : List.of("host", "ftp://h:1", "h:1/path", " ", "http://:1")) {
      assertThrows(
          IllegalArgumentException.class,
          () -> EtcdConnector.parseEndpoints(List.of(bad), false),
          bad);
    }
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> EtcdConnector.parseEndpoints(List.of("http://h:1"), true))
            .getMessage()
            .contains("TLS"));
  }

  @Test
  void noEndpointIsAConfigurationErrorThroughTheRegistry() {
    assertTrue(LibKV.availableBackends().contains(Backend.ETCD));
    assertThrows(IllegalArgumentException.class, () -> LibKV.newStore(Backend.ETCD, null, null));
  }

  @Test
  void leaseTtlIsWholeSecondsRoundedUp() {
    assertEquals(1, EtcdStore.leaseSeconds(Duration.ofMillis(1)));
    assertEquals(1, EtcdStore.leaseSeconds(Duration.ofSeconds(1)));
    assertEquals(2, EtcdStore.leaseSeconds(Duration.ofMillis(1001)));
    assertEquals(2, EtcdStore.leaseSeconds(Duration.ofMillis(1500)));
    assertEquals(15, EtcdStore.leaseSeconds(Duration.ofSeconds(15)));
  }

  @Test
  void keyOrderIsUtf8ByteOrderLikeEtcds() {
    List<String> keys =
        new ArrayList<>(List.of("a/\uD83D\uDD11", "a/\uFFFD", "a/b", "a/b/c", "a/"));
    keys.sort(EtcdStore.KEY_ORDER);
    assertEquals(List.of("a/", "a/b", "a/b/c", "a/\uFFFD", "a/\uD83D\uDD11"), keys);
    // String.compareTo (UTF-16 order) would put the supplementary character first.
    assertTrue("a/\uD83D\uDD11".compareTo("a/\uFFFD") < 0);
  }

  @Test
  void unavailableAndDeadlineMeanNotReachable() {
    StoreException e =
        errors.map(Status.UNAVAILABLE.withDescription("io").asRuntimeException(), "get k");
    assertInstanceOf(NotReachableException.class, e);
    assertEquals(EPS, ((NotReachableException) e).endpoints());
    assertTrue(e.getMessage().contains("get k"), e.getMessage());
    assertInstanceOf(
        NotReachableException.class,
        errors.map(
            new CompletionException(Status.DEADLINE_EXCEEDED.asRuntimeException()), "put k"));
    assertInstanceOf(
        NotReachableException.class,
        errors.map(Status.UNKNOWN.withDescription("channel closed").asRuntimeException(), "put k"));
  }

  @Test
  void refusedCredentialsNameTheUserAndTheCall() {
    StoreException e =
        errors.map(
            Status.UNAUTHENTICATED
                .withDescription("etcdserver: authentication failed, invalid user ID or password")
                .asRuntimeException(),
            "connect");
    assertFalse(e instanceof NotReachableException);
    assertTrue(e.getMessage().contains("user \"alice\""), e.getMessage());
    assertTrue(e.getMessage().contains("authentication failed"), e.getMessage());
    StoreException anon =
        anonymous.map(
            Status.INVALID_ARGUMENT
                .withDescription("etcdserver: user name is empty")
                .asRuntimeException(),
            "get k");
    assertTrue(anon.getMessage().contains("unauthenticated client"), anon.getMessage());
    assertTrue(anon.getMessage().contains("get k"), anon.getMessage());
    // A login that could not reach the server is not a refusal.
    assertInstanceOf(
        NotReachableException.class,
        errors.map(
            Status.UNAUTHENTICATED
                .withCause(Status.UNAVAILABLE.asRuntimeException())
                .asRuntimeException(),
            "connect"));
  }

  @Test
  void compactionNamesTheCompactRevision() {
    StoreException e = errors.map(EtcdExceptionFactory.newCompactedException(42), "watch of key k");
    assertTrue(e.getMessage().contains("compact revision 42"), e.getMessage());
    assertFalse(EtcdErrors.isTransient(EtcdExceptionFactory.newCompactedException(42)));
    assertTrue(EtcdErrors.isTransient(Status.UNAVAILABLE.asRuntimeException()));
    assertFalse(EtcdErrors.isTransient(Status.PERMISSION_DENIED.asRuntimeException()));
  }

  @Test
  void leaseGoneAndCompactionAreRecognisedWhereverTheyAreWrapped() {
    assertTrue(
        EtcdErrors.isLeaseGone(
            new CompletionException(
                EtcdExceptionFactory.newEtcdException(
                    io.etcd.jetcd.common.exception.ErrorCode.NOT_FOUND,
                    "etcdserver: requested lease not found"))));
    assertTrue(
        EtcdErrors.isLeaseGone(
            Status.NOT_FOUND
                .withDescription("etcdserver: requested lease not found")
                .asRuntimeException()));
    assertFalse(EtcdErrors.isLeaseGone(Status.UNAVAILABLE.asRuntimeException()));
    StoreException mapped =
        errors.map(
            Status.OUT_OF_RANGE
                .withDescription("etcdserver: mvcc: required revision has been compacted")
                .asRuntimeException(),
            "watch k");
    assertTrue(EtcdErrors.isCompacted(mapped));
    assertTrue(EtcdErrors.isCompacted(EtcdExceptionFactory.newCompactedException(7)));
    assertFalse(EtcdErrors.isCompacted(Status.UNAVAILABLE.asRuntimeException()));
  }

  @Test
  void otherFailuresKeepTheirTypeOrNameTheCall() {
    KeyNotFoundException own = new KeyNotFoundException("k");
    assertSame(own, errors.map(new CompletionException(own), "get k"));
    StoreException e =
        errors.map(
            Status.INVALID_ARGUMENT
                .withDescription("etcdserver: request is too large")
                .asRuntimeException(),
            "put big");
    assertTrue(e.getMessage().contains("put big"), e.getMessage());
    assertTrue(e.getMessage().contains("request is too large"), e.getMessage());
  }

  @Test
  void unaryCallsGetTheConnectionTimeoutAsDeadlineStreamsDoNot() {
    io.grpc.CallOptions[] seen = new io.grpc.CallOptions[1];
    io.grpc.Channel capture =
        new io.grpc.Channel() {
          @Override
          public <Q, R> io.grpc.ClientCall<Q, R> newCall(
              io.grpc.MethodDescriptor<Q, R> method, io.grpc.CallOptions options) {
            seen[0] = options;
            return null;
          }

          @Override
          public String authority() {
            return "test";
          }
        };
    CallDeadlines deadlines = new CallDeadlines(Duration.ofSeconds(3));
    deadlines.interceptCall(
        method(io.grpc.MethodDescriptor.MethodType.UNARY), io.grpc.CallOptions.DEFAULT, capture);
    long leftMs = seen[0].getDeadline().timeRemaining(TimeUnit.MILLISECONDS);
    assertTrue(leftMs > 2000 && leftMs <= 3000, "deadline in " + leftMs + " ms");
    deadlines.interceptCall(
        method(io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING),
        io.grpc.CallOptions.DEFAULT,
        capture);
    assertEquals(null, seen[0].getDeadline(), "watch and keep-alive streams have no deadline");
  }

  private static io.grpc.MethodDescriptor<String, String> method(
      io.grpc.MethodDescriptor.MethodType type) {
    io.grpc.MethodDescriptor.Marshaller<String> m =
        new io.grpc.MethodDescriptor.Marshaller<>() {
          @Override
          public java.io.InputStream stream(String value) {
            return new java.io.ByteArrayInputStream(
                value.getBytes(java.nio.charset.StandardCharsets.UTF_8));
          }

          @Override
          public String parse(java.io.InputStream stream) {
            return "";
          }
        };
    return io.grpc.MethodDescriptor.<String, String>newBuilder(m, m)
        .setType(type)
        .setFullMethodName("etcdserverpb.KV/Range")
        .build();
  }

  @Test
  void awaitGivesNotReachableAfterTheTimeoutAndCancels() {
    CompletableFuture<String> never = new CompletableFuture<>();
    long start = System.nanoTime();
    NotReachableException e =
        assertThrows(NotReachableException.class, () -> errors.await(never, "get k"));
    assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(190));
    assertTrue(never.isCancelled(), "the abandoned call is cancelled");
    assertTrue(e.getMessage().contains("get k"), e.getMessage());
  }

  @Test
  void awaitKeepsTheInterruptFlag() {
    Thread.currentThread().interrupt();
    try {
      StoreException e =
          assertThrows(
              StoreException.class, () -> errors.await(new CompletableFuture<>(), "get k"));
      assertInstanceOf(InterruptedException.class, e.getCause());
      assertTrue(Thread.currentThread().isInterrupted());
    } finally {
      Thread.interrupted();
    }
  }
}
