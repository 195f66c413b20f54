package io.libkv.raft;

import java.util.regex.Pattern;

/**
 * The threads that belong to an embedded cluster's members (not to one store), so they may outlive
 * a store's close(): Ratis server and client threads (named after the peer id, e.g. {@code
 * n1@group-...}, {@code n1-impl-thread1}), gRPC/Netty event loops and executors of the node's own
 * Raft client, Ratis' JVM-wide timers ({@code timer0}...), the node's watch hub and lease reaper,
 * the JDK's shared {@code CompletableFutureDelayScheduler} (used by request timeouts) and the
 * common fork-join pool (parallel close).
 */
final class SharedThreads {
  private static final Pattern SHARED =
      Pattern.compile(
          "n\\d+[-@].*|grpc-.*|.*NettyClientStreamRpc.*|.*-worker-.*|timer\\d+|"
              + "libkv-watch-n\\d+|libkv-lease-reaper-n\\d+|CompletableFutureDelayScheduler|"
              + "ForkJoinPool.*|JvmPauseMonitor.*|client-.*|.*-server-.*|Ratis.*|"
              + "nioEventLoopGroup.*|epollEventLoopGroup.*|.*EventLoop.*");

  private SharedThreads() {}

  static boolean isShared(Thread t) {
    return SHARED.matcher(t.getName()).matches();
  }
}
