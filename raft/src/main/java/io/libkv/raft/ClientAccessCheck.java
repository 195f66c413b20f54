package io.libkv.raft;

import io.libkv.store.PermissionDeniedException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.function.Supplier;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import org.apache.ratis.proto.RaftProtos.ClientMessageEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftClientRequestProto;
import org.apache.ratis.proto.grpc.AdminProtocolServiceGrpc;
import org.apache.ratis.proto.grpc.RaftClientProtocolServiceGrpc;
import org.apache.ratis.thirdparty.io.grpc.ForwardingServerCallListener;
import org.apache.ratis.thirdparty.io.grpc.Grpc;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.ServerCall;
import org.apache.ratis.thirdparty.io.grpc.ServerCallHandler;
import org.apache.ratis.thirdparty.io.grpc.ServerInterceptor;
import org.apache.ratis.thirdparty.io.grpc.Status;

/**
 * A TLS member's naming of who calls its client and admin services, for the {@link AccessRules}: a
 * caller whose certificate names a member ({@link MemberCertificates}) is a member, or a member's
 * own store forwarding a write, and is not checked; any other caller is named by its certificate's
 * subject common name (CN), or its whole subject where it has none.
 *
 * <p>Every request a named caller sends to the client service reaches the state machine with that
 * name in front ({@link Wire#authenticate}), which checks it against the rules in force ({@link
 * KvStateMachine}), so each refusal is an answer to that request alone and the caller's other
 * requests on the same stream go on. A named caller's admin calls (membership, leadership,
 * snapshots) need the {@link Permission#ADMIN} permission once there are rules; refused, the call
 * is closed with {@code PERMISSION_DENIED} and the refusal. Installed on the member's gRPC server
 * beside {@link PeerCertificateCheck}; thread-safe.
 */
final class ClientAccessCheck implements ServerInterceptor {
  private final Supplier<AccessRules> rules;

  /**
   * @param rules the rules in force on this member
   */
  ClientAccessCheck(Supplier<AccessRules> rules) {
    this.rules = rules;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    String service = call.getMethodDescriptor().getServiceName();
    boolean client = RaftClientProtocolServiceGrpc.SERVICE_NAME.equals(service);
    boolean admin = AdminProtocolServiceGrpc.SERVICE_NAME.equals(service);
    if (!client && !admin) {
      return next.startCall(call, headers);
    }
    X509Certificate cert =
        MemberCertificates.peerCertificate(
            call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    String identity;
    try {
      identity = cert == null ? null : identity(cert);
    } catch (CertificateException e) {
      call.close(Status.PERMISSION_DENIED.withDescription(e.getMessage()), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    if (identity == null) {
      return next.startCall(call, headers); // a member: not checked
    }
    if (identity.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 1024) {
      call.close(
          Status.PERMISSION_DENIED.withDescription(
              "the client certificate's name is over 1024 bytes: " + identity.substring(0, 64)),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    if (admin) {
      PermissionDeniedException no =
          rules.get().deny(new AccessRules.Caller(identity), "", Permission.ADMIN);
      if (no != null) {
        call.close(Status.PERMISSION_DENIED.withDescription(no.getMessage()), new Metadata());
        return new ServerCall.Listener<>() {};
      }
      return next.startCall(call, headers);
    }
    return new Named<>(next.startCall(call, headers), identity);
  }

  /**
   * The name rules know a caller by, or {@code null} for a member.
   *
   * @throws CertificateException if the certificate's names cannot be read
   */
  static String identity(X509Certificate cert) throws CertificateException {
    if (MemberCertificates.memberId(cert) != null) {
      return null;
    }
    String subject = cert.getSubjectX500Principal().getName();
    try {
      for (Rdn rdn : new LdapName(subject).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return String.valueOf(rdn.getValue());
        }
      }
    } catch (InvalidNameException e) {
      // fall through to the whole subject
    }
    return subject;
  }

  /** Puts the caller's name in front of every request it sends. */
  private static final class Named<Q>
      extends ForwardingServerCallListener.SimpleForwardingServerCallListener<Q> {
    private final String identity;

    Named(ServerCall.Listener<Q> delegate, String identity) {
      super(delegate);
      this.identity = identity;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void onMessage(Q message) {
      if (message instanceof RaftClientRequestProto r) {
        ClientMessageEntryProto named =
            r.getMessage().toBuilder()
                .setContent(Wire.authenticate(identity, r.getMessage().getContent()))
                .build();
        super.onMessage((Q) r.toBuilder().setMessage(named).build());
        return;
      }
      super.onMessage(message);
    }
  }
}
