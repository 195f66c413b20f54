package io.libkv.etcd;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Gives every unary etcd call (get, put, delete, txn, lease grant and revoke, login) a gRPC
 * deadline of the connection timeout. jetcd waits for a ready connection and cannot cancel a call
 * its caller gave up on; without a deadline such a call would stay queued while the servers are
 * away and be sent when they come back, long after the caller was told {@link
 * io.libkv.store.NotReachableException} (a late put could overwrite a newer value). Streams
 * (watches, keep-alives) live longer and get no deadline.
 */
final class CallDeadlines implements ClientInterceptor {
  private final long timeoutNs;

  CallDeadlines(Duration timeout) {
    this.timeoutNs = timeout.toNanos();
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
    CallOptions o = options;
    if (method.getType() == MethodDescriptor.MethodType.UNARY && o.getDeadline() == null) {
      o = o.withDeadlineAfter(timeoutNs, TimeUnit.NANOSECONDS);
    }
    return next.newCall(method, o);
  }
}
