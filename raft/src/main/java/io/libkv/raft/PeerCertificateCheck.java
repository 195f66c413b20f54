package io.libkv.raft;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.proto.grpc.RaftServerProtocolServiceGrpc;
import org.apache.ratis.thirdparty.io.grpc.Grpc;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.ServerCall;
import org.apache.ratis.thirdparty.io.grpc.ServerCallHandler;
import org.apache.ratis.thirdparty.io.grpc.ServerInterceptor;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TLS member's check of who calls its peer service (votes, AppendEntries, snapshots, ReadIndex):
 * the caller's certificate must name a member ({@link MemberCertificates}), and every request of
 * the call must claim that member as its sender. A client's certificate from the cluster's CA thus
 * cannot vote or append, and one member's certificate cannot speak for another. Client and admin
 * calls are not checked here: any certificate the cluster's CA signed may make them.
 *
 * <p>A refused call is closed with {@code PERMISSION_DENIED} and a description naming the
 * certificate, the member it claimed to be and why; the member logs the same once per caller and
 * reason and counts it ({@link #refused()}). Installed on the member's gRPC server through Ratis'
 * services customizer; thread-safe.
 */
final class PeerCertificateCheck implements ServerInterceptor {
  private static final Logger LOG = LoggerFactory.getLogger(PeerCertificateCheck.class);

  private final String self;
  private final AtomicLong refused = new AtomicLong();
  private final AtomicReference<String> lastRefusal = new AtomicReference<>();

  PeerCertificateCheck(String self) {
    this.self = self;
  }

  /** Peer calls refused so far. */
  long refused() {
    return refused.get();
  }

  /** Why the last peer call was refused, or {@code null} if none was. */
  String lastRefusal() {
    return lastRefusal.get();
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    if (!RaftServerProtocolServiceGrpc.SERVICE_NAME.equals(
        call.getMethodDescriptor().getServiceName())) {
      return next.startCall(call, headers);
    }
    String method = call.getMethodDescriptor().getBareMethodName();
    X509Certificate cert =
        MemberCertificates.peerCertificate(
            call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    String member = null;
    String unfit;
    try {
      member = cert == null ? null : MemberCertificates.memberId(cert);
      unfit =
          cert == null
              ? "the caller presented no certificate"
              : member == null
                  ? "its certificate "
                      + MemberCertificates.subject(cert)
                      + " names no member (no subject alternative name URI:"
                      + MemberCertificates.URI_PREFIX
                      + "<id>): a client certificate cannot take part as a member"
                  : null;
    } catch (CertificateException e) {
      unfit = e.getMessage();
    }
    // Refused at the first request, so that the refusal can name the member it claimed to be.
    return new Checked<>(call, next.startCall(call, headers), method, member, unfit, cert);
  }

  private void refuse(ServerCall<?, ?> call, String method, String claimed, String why) {
    String text =
        "member "
            + self
            + " refused a peer call ("
            + method
            + (claimed == null ? "" : " as member " + claimed)
            + ") from "
            + call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)
            + ": "
            + why;
    refused.incrementAndGet();
    if (!text.equals(lastRefusal.getAndSet(text))) {
      LOG.warn("{}", text);
    }
    call.close(Status.PERMISSION_DENIED.withDescription(text), new Metadata());
  }

  /** The member a peer request says it comes from, or {@code null} for an unknown request. */
  static String requestor(Object request) {
    RaftProtos.RaftRpcRequestProto r;
    if (request instanceof RaftProtos.AppendEntriesRequestProto a) {
      r = a.getServerRequest();
    } else if (request instanceof RaftProtos.RequestVoteRequestProto v) {
      r = v.getServerRequest();
    } else if (request instanceof RaftProtos.InstallSnapshotRequestProto s) {
      r = s.getServerRequest();
    } else if (request instanceof RaftProtos.StartLeaderElectionRequestProto e) {
      r = e.getServerRequest();
    } else if (request instanceof RaftProtos.ReadIndexRequestProto i) {
      r = i.getServerRequest();
    } else {
      return null;
    }
    return r.getRequestorId().toStringUtf8();
  }

  /**
   * Passes a member's call on while each request claims that member; closes it at the first request
   * that does not, or at the first request of a caller that is not a member ({@code unfit} says
   * why).
   */
  private final class Checked<Q, A> extends ServerCall.Listener<Q> {
    private final ServerCall<Q, A> call;
    private final ServerCall.Listener<Q> delegate;
    private final String method;
    private final String member;
    private final String unfit;
    private final X509Certificate cert;
    // Only the call's serialized listener callbacks touch it.
    private boolean closed;

    Checked(
        ServerCall<Q, A> call,
        ServerCall.Listener<Q> delegate,
        String method,
        String member,
        String unfit,
        X509Certificate cert) {
      this.call = call;
      this.delegate = delegate;
      this.method = method;
      this.member = member;
      this.unfit = unfit;
      this.cert = cert;
    }

    @Override
    public void onMessage(Q message) {
      if (closed) {
        return;
      }
      String claimed = requestor(message);
      String why =
          unfit != null
              ? unfit
              : claimed == null
                  ? "not a peer request"
                  : !member.equals(claimed)
                      ? "its certificate "
                          + MemberCertificates.subject(cert)
                          + " names member "
                          + member
                          + ", not "
                          + claimed
                      : null;
      if (why != null) {
        closed = true;
        refuse(call, method, claimed, why);
        return;
      }
      delegate.onMessage(message);
    }

    @Override
    public void onHalfClose() {
      if (!closed) {
        delegate.onHalfClose();
      }
    }

    @Override
    public void onCancel() {
      delegate.onCancel();
    }

    @Override
    public void onComplete() {
      delegate.onComplete();
    }

    @Override
    public void onReady() {
      if (!closed) {
        delegate.onReady();
      }
    }
  }
}
