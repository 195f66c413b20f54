package io.libkv.raft;

import io.libkv.storage.engine.KvEngine;
import io.libkv.store.PermissionDeniedException;
import io.libkv.store.StoreException;
import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The envelope of this module's Raft messages, versioned so that a newer node can refuse what it
 * does not understand. The payloads inside are the storage module's command codec.
 *
 * <pre>
 * log entry : [ENTRY_VERSION][ENTRY_WRITES][floor: long][command batch]
 *             (version 1, written before client sessions: [1][ENTRY_WRITES][command batch];
 *             version 3, the same as 2, holds a change of the access rules: a member that reads
 *             only up to 2 stops at it rather than skip it)
 * query     : [VERSION][QUERY_BARRIER]  or  [VERSION][QUERY_READ][read request]
 *             or  [VERSION][QUERY_READ_BATCH][count: int]{[length: int][read request]}*count
 *             or  [VERSION][QUERY_EXPORT_BEGIN]
 *             or  [VERSION][QUERY_EXPORT_CHUNK][token: 16 bytes][offset: long][length: int]
 *             or  [VERSION][QUERY_STATUS]  or  [VERSION][QUERY_ACCESS_RULES]
 * request   : any of the above, or [AUTHENTICATED][length: u16][UTF-8 identity][any of the above]
 *             (added by a member to what a client certificate sent, {@link ClientAccessCheck})
 * reply     : [STATUS_OK][body]  or  [STATUS_MALFORMED][UTF-8 reason]
 *             or  [STATUS_DENIED][UTF-8 refusal of {@link PermissionDeniedException}]
 *             the access rules' body: [revision: long][the rules ({@link AccessRules})]
 *             a barrier's body: [applied index: long]
 *             a batch's body: {[status][length: int][body or UTF-8 reason]}*count
 *             an export's: [token: 16 bytes][applied index: long][size: long][SHA-256: 32 bytes]
 *             a chunk's: the bytes read
 *             a status's body: the answering member's report ({@link MemberReportCodec})
 * </pre>
 *
 * <p>A read request and its body are {@link ReadCodec}'s: one snapshot answers each. A batch is
 * answered after one ReadIndex for all its requests (each request is still served on its own, from
 * its own snapshot, so one malformed request fails only itself).
 *
 * <p>An entry's floor is the lowest call id its sender still awaited when it sent the entry ({@link
 * RequestRouter}); with the client and call ids Ratis logs beside the payload it makes the entry's
 * {@link io.libkv.storage.engine.ClientCall}, so a late copy of a finished call is not applied. A
 * member that reads only version 1 stops at a version-2 entry ({@link NewerFormatException}) rather
 * than misapply it.
 */
final class Wire {
  static final byte VERSION = 1;

  /** The version of write entries: 2 carries the sender's floor; 1 is still read. */
  static final byte ENTRY_VERSION = 2;

  /** The version of an entry that changes the access rules (laid out as version 2). */
  static final byte ACCESS_ENTRY_VERSION = 3;

  /** The newest entry version this build reads. */
  static final byte NEWEST_ENTRY_VERSION = ACCESS_ENTRY_VERSION;

  /** The first byte of a request a member authenticated: the caller's identity comes next. */
  static final byte AUTHENTICATED = (byte) 0xA5;

  private static final int MAX_IDENTITY_BYTES = 1024;

  /** The floor of an entry sent outside any client session (version 1). */
  static final long NO_FLOOR = -1;

  static final byte ENTRY_WRITES = 1;
  static final byte QUERY_BARRIER = 1;
  // Kinds 2 and 3 were reads whose replies had no snapshot header (see ReadCodec): refused now.
  static final byte QUERY_READ = 4;
  static final byte QUERY_READ_BATCH = 5;
  // A backup: a consistent copy of the answering member's data, then its chunks (SnapshotExports).
  static final byte QUERY_EXPORT_BEGIN = 10;
  static final byte QUERY_EXPORT_CHUNK = 11;
  static final byte QUERY_STATUS = 6;
  static final byte QUERY_ACCESS_RULES = 7;
  static final byte STATUS_OK = 0;
  static final byte STATUS_MALFORMED = 1;
  static final byte STATUS_DENIED = 2;

  private Wire() {}

  /** Wraps an encoded command batch as a log entry outside any client session (version 1). */
  static Message writes(byte[] batch) {
    return writes(batch, NO_FLOOR);
  }

  /**
   * Wraps an encoded command batch as a log entry whose sender still awaited no call below {@code
   * floor}; {@link #NO_FLOOR} makes a version-1 entry.
   */
  static Message writes(byte[] batch, long floor) {
    if (floor == NO_FLOOR) {
      return Message.valueOf(
          ByteString.copyFrom(new byte[] {VERSION, ENTRY_WRITES})
              .concat(ByteString.copyFrom(batch)));
    }
    ByteBuffer h = ByteBuffer.allocate(10).put(ENTRY_VERSION).put(ENTRY_WRITES).putLong(floor);
    return Message.valueOf(ByteString.copyFrom(h.array()).concat(ByteString.copyFrom(batch)));
  }

  /**
   * The entry that sets the access rules ({@code batch} holds one {@link
   * io.libkv.storage.engine.Command.SetAccessRules}), of {@link #ACCESS_ENTRY_VERSION}.
   */
  static Message accessRules(byte[] batch) {
    ByteBuffer h = ByteBuffer.allocate(10).put(ACCESS_ENTRY_VERSION).put(ENTRY_WRITES).putLong(0);
    return Message.valueOf(ByteString.copyFrom(h.array()).concat(ByteString.copyFrom(batch)));
  }

  /** The query for the access rules in force (needs the admin permission once there are rules). */
  static Message accessRulesQuery() {
    return Message.valueOf(ByteString.copyFrom(new byte[] {VERSION, QUERY_ACCESS_RULES}));
  }

  /** What a request carries once a member has named its caller, and the caller. */
  record Authenticated(AccessRules.Caller caller, ByteString content) {}

  /** {@code content} as sent by the client certificate named {@code identity}. */
  static ByteString authenticate(String identity, ByteString content) {
    byte[] id = identity.getBytes(StandardCharsets.UTF_8);
    if (id.length > MAX_IDENTITY_BYTES) {
      throw new IllegalArgumentException(
          "a certificate name of " + id.length + " bytes, over " + MAX_IDENTITY_BYTES);
    }
    ByteBuffer h = ByteBuffer.allocate(3 + id.length);
    h.put(AUTHENTICATED).putShort((short) id.length).put(id);
    return ByteString.copyFrom(h.array()).concat(content);
  }

  /**
   * The caller of a request and what it sent: a request without an identity comes from a member or
   * its own stores ({@link AccessRules.Caller#TRUSTED}).
   *
   * @throws MalformedEntryException if the identity is cut short, or the request names two
   */
  static Authenticated caller(ByteString content) {
    if (content.isEmpty() || content.byteAt(0) != AUTHENTICATED) {
      return new Authenticated(AccessRules.Caller.TRUSTED, content);
    }
    if (content.size() < 3) {
      throw new MalformedEntryException("an authenticated request is cut short", null);
    }
    int length = content.substring(1, 3).asReadOnlyByteBuffer().getShort() & 0xFFFF;
    if (length == 0 || length > MAX_IDENTITY_BYTES || content.size() < 3 + length) {
      throw new MalformedEntryException("an authenticated request's identity is malformed", null);
    }
    String identity = content.substring(3, 3 + length).toStringUtf8();
    ByteString inner = content.substring(3 + length);
    if (!inner.isEmpty() && inner.byteAt(0) == AUTHENTICATED) {
      throw new MalformedEntryException("a request names its caller twice", null);
    }
    return new Authenticated(new AccessRules.Caller(identity), inner);
  }

  /** The reply to a request refused for want of a permission. */
  static Message denied(PermissionDeniedException e) {
    return Message.valueOf(
        ByteString.copyFrom(new byte[] {STATUS_DENIED})
            .concat(ByteString.copyFrom(e.getMessage(), StandardCharsets.UTF_8)));
  }

  private static RuntimeException deniedError(String refusal) {
    return PermissionDeniedException.fromMessage(refusal)
        .<RuntimeException>map(e -> e)
        .orElseGet(() -> new StoreException(refusal));
  }

  /**
   * The query that only waits for the ReadIndex; its reply's body is the answering member's applied
   * index (8 bytes), at or past the ReadIndex.
   */
  static Message barrier() {
    return Message.valueOf(ByteString.copyFrom(new byte[] {VERSION, QUERY_BARRIER}));
  }

  /** The query that makes a copy of the answering member's data for a backup. */
  static Message exportBegin() {
    return Message.valueOf(ByteString.copyFrom(new byte[] {VERSION, QUERY_EXPORT_BEGIN}));
  }

  /**
   * The query that reads {@code length} bytes at {@code offset} of the copy named {@code token}.
   */
  static Message exportChunk(byte[] token, long offset, int length) {
    ByteBuffer b = ByteBuffer.allocate(2 + token.length + 8 + 4);
    b.put(VERSION).put(QUERY_EXPORT_CHUNK).put(token).putLong(offset).putInt(length);
    return Message.valueOf(ByteString.copyFrom(b.array()));
  }

  /** Whether {@code q} is one of a backup's queries (served by {@link SnapshotExports}). */
  static boolean isExport(ByteString q) {
    return q.size() >= 2
        && q.byteAt(0) == VERSION
        && (q.byteAt(1) == QUERY_EXPORT_BEGIN || q.byteAt(1) == QUERY_EXPORT_CHUNK);
  }

  /** Serves a backup's query against {@code exports}. */
  static Message export(ByteString q, SnapshotExports exports) {
    if (q.byteAt(1) == QUERY_EXPORT_BEGIN) {
      if (q.size() != 2) {
        throw new MalformedEntryException("a snapshot query has " + q.size() + " bytes", null);
      }
      return ok(exports.begin());
    }
    if (q.size() != 2 + 16 + 8 + 4) {
      throw new MalformedEntryException("a snapshot chunk query has " + q.size() + " bytes", null);
    }
    ByteBuffer b = q.substring(2).asReadOnlyByteBuffer();
    byte[] token = new byte[16];
    b.get(token);
    return ok(exports.chunk(token, b.getLong(), b.getInt()));
  }

  /**
   * The query a member answers with its own status and the configuration it knows; sent as a stale
   * read (minimum index -1) to one member, it is answered by that member, leader or not.
   */
  static Message status() {
    return Message.valueOf(ByteString.copyFrom(new byte[] {VERSION, QUERY_STATUS}));
  }

  /** Wraps an encoded read request as a query. */
  static Message read(byte[] request) {
    return Message.valueOf(
        ByteString.copyFrom(new byte[] {VERSION, QUERY_READ}).concat(ByteString.copyFrom(request)));
  }

  /** Wraps encoded read requests as one query. */
  static Message readBatch(List<byte[]> requests) {
    int size = 2 + 4;
    for (byte[] r : requests) {
      size += 4 + r.length;
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    b.put(VERSION).put(QUERY_READ_BATCH).putInt(requests.size());
    for (byte[] r : requests) {
      b.putInt(r.length).put(r);
    }
    return Message.valueOf(ByteString.copyFrom(b.array()));
  }

  /**
   * One answer of a batch: a body, or the reason the request was refused as malformed, or the
   * refusal of a permission.
   */
  record Answer(byte[] body, String malformed, String denied) {
    Answer(byte[] body, String malformed) {
      this(body, malformed, null);
    }

    /**
     * Returns the body.
     *
     * @throws PermissionDeniedException if the caller may not read what it asked for
     * @throws IllegalStateException with the reason, if the server rejected the request
     */
    byte[] bodyOrThrow() {
      if (denied != null) {
        throw deniedError(denied);
      }
      if (malformed != null) {
        throw new IllegalStateException("the state machine rejected the request: " + malformed);
      }
      return body;
    }
  }

  /**
   * Splits the body of a batch's OK reply into one answer per request.
   *
   * @throws IllegalStateException if the body does not hold {@code count} answers
   */
  static List<Answer> answers(byte[] body, int count) {
    ByteBuffer b = ByteBuffer.wrap(body);
    List<Answer> out = new ArrayList<>(count);
    try {
      for (int i = 0; i < count; i++) {
        byte status = b.get();
        byte[] bytes = new byte[b.getInt()];
        b.get(bytes);
        String text = new String(bytes, StandardCharsets.UTF_8);
        out.add(
            status == STATUS_OK
                ? new Answer(bytes, null)
                : status == STATUS_DENIED ? new Answer(null, null, text) : new Answer(null, text));
      }
    } catch (BufferUnderflowException | NegativeArraySizeException e) {
      throw new IllegalStateException(
          "a batch reply of " + body.length + " bytes holds fewer than " + count + " answers", e);
    }
    if (b.hasRemaining()) {
      throw new IllegalStateException(
          "a batch reply has " + b.remaining() + " bytes after its " + count + " answers");
    }
    return out;
  }

  /**
   * The command batch of log entry {@code index} ({@code -1} for a request not yet in the log).
   *
   * @throws MalformedEntryException if the header is not an entry's
   * @throws NewerFormatException if the entry is of a newer version than this build reads
   */
  static byte[] entryPayload(ByteString data, long index) {
    return data.substring(headerSize(data, index)).toByteArray();
  }

  /**
   * The floor an entry carries ({@link #writes(byte[], long)}), {@link #NO_FLOOR} for a version-1
   * entry.
   *
   * @throws MalformedEntryException if the header is not an entry's
   * @throws NewerFormatException if the entry is of a newer version than this build reads
   */
  static long floor(ByteString data, long index) {
    if (headerSize(data, index) == 2) {
      return NO_FLOOR;
    }
    return data.substring(2, 10).asReadOnlyByteBuffer().getLong();
  }

  /**
   * Entry with {@code payload} as its batch and the header (version and floor) of {@code original}.
   */
  static ByteString rewrap(ByteString original, byte[] payload) {
    return original.substring(0, headerSize(original, -1)).concat(ByteString.copyFrom(payload));
  }

  private static int headerSize(ByteString data, long index) {
    String what = index < 0 ? "a request" : "log entry " + index;
    if (data.size() < 2) {
      throw new MalformedEntryException(
          what + " has " + data.size() + " bytes, fewer than the 2 of a header", null);
    }
    int version = Byte.toUnsignedInt(data.byteAt(0));
    if (version > NEWEST_ENTRY_VERSION) {
      throw new NewerFormatException(version, what);
    }
    if (version != VERSION && version != ENTRY_VERSION && version != ACCESS_ENTRY_VERSION) {
      throw new MalformedEntryException(
          what
              + " has format version "
              + version
              + ", expected "
              + VERSION
              + ", "
              + ENTRY_VERSION
              + " or "
              + ACCESS_ENTRY_VERSION,
          null);
    }
    if (data.byteAt(1) != ENTRY_WRITES) {
      throw new MalformedEntryException(what + " has unknown kind " + data.byteAt(1), null);
    }
    if (version == VERSION) {
      return 2;
    }
    if (data.size() < 10) {
      throw new MalformedEntryException(
          what
              + " has "
              + data.size()
              + " bytes, fewer than the 10 of a version-"
              + version
              + " header",
          null);
    }
    long floor = data.substring(2, 10).asReadOnlyByteBuffer().getLong();
    if (floor < 0) {
      throw new MalformedEntryException(what + " carries a negative floor " + floor, null);
    }
    return 10;
  }

  /**
   * Serves a query of {@code caller} against {@code state}; a status query with {@code report}'s
   * bytes. A request the caller may not make is answered with {@link #STATUS_DENIED}.
   */
  static Message query(
      ByteString q, ReplicatedState state, Supplier<byte[]> report, AccessRules.Caller caller) {
    if (q.size() < 2 || q.byteAt(0) != VERSION) {
      throw new MalformedEntryException("query has a bad header", null);
    }
    try {
      return switch (q.byteAt(1)) {
        case QUERY_BARRIER -> ok(ByteBuffer.allocate(8).putLong(state.appliedIndex()).array());
        case QUERY_READ -> ok(state.query(q.substring(2).toByteArray(), caller));
        case QUERY_READ_BATCH ->
            ok(serveBatch(q.substring(2).asReadOnlyByteBuffer(), state, caller));
        case QUERY_STATUS -> ok(report.get());
        case QUERY_ACCESS_RULES -> {
          if (q.size() != 2) {
            throw new MalformedEntryException(
                "an access rules query has " + q.size() + " bytes", null);
          }
          PermissionDeniedException no = state.accessRules().deny(caller, "", Permission.ADMIN);
          if (no != null) {
            throw no;
          }
          KvEngine.AccessRules r = state.storedAccessRules();
          yield ok(
              ByteBuffer.allocate(8 + r.rules().length)
                  .putLong(r.revision())
                  .put(r.rules())
                  .array());
        }
        default -> throw new MalformedEntryException("query has unknown kind " + q.byteAt(1), null);
      };
    } catch (PermissionDeniedException e) {
      return denied(e);
    }
  }

  private static byte[] serveBatch(
      ByteBuffer in, ReplicatedState state, AccessRules.Caller caller) {
    List<byte[]> requests = new ArrayList<>();
    try {
      int count = in.getInt();
      if (count < 0 || count > in.remaining() / 4) {
        throw new MalformedEntryException("batch query claims " + count + " requests", null);
      }
      for (int i = 0; i < count; i++) {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
          throw new MalformedEntryException(
              "batch query request " + i + " claims " + length + " bytes", null);
        }
        byte[] r = new byte[length];
        in.get(r);
        requests.add(r);
      }
    } catch (BufferUnderflowException e) {
      throw new MalformedEntryException("batch query is truncated", e);
    }
    if (in.hasRemaining()) {
      throw new MalformedEntryException(
          "batch query has " + in.remaining() + " bytes after its requests", null);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] r : requests) {
      byte status;
      byte[] body;
      try {
        body = state.query(r, caller);
        status = STATUS_OK;
      } catch (MalformedEntryException e) {
        body = String.valueOf(e.getMessage()).getBytes(StandardCharsets.UTF_8);
        status = STATUS_MALFORMED;
      } catch (PermissionDeniedException e) {
        body = e.getMessage().getBytes(StandardCharsets.UTF_8);
        status = STATUS_DENIED;
      }
      out.write(status);
      out.writeBytes(ByteBuffer.allocate(4).putInt(body.length).array());
      out.writeBytes(body);
    }
    return out.toByteArray();
  }

  /** The applied index in a barrier's reply body; 0 from a member that sent none. */
  static long barrierIndex(byte[] body) {
    return body.length >= 8 ? ByteBuffer.wrap(body).getLong() : 0;
  }

  static Message ok(byte[] body) {
    return Message.valueOf(
        ByteString.copyFrom(new byte[] {STATUS_OK}).concat(ByteString.copyFrom(body)));
  }

  static Message malformed(String reason) {
    return Message.valueOf(
        ByteString.copyFrom(new byte[] {STATUS_MALFORMED})
            .concat(ByteString.copyFrom(String.valueOf(reason), StandardCharsets.UTF_8)));
  }

  /**
   * Returns the body of an OK reply.
   *
   * @throws PermissionDeniedException if the caller may not make the request
   * @throws IllegalStateException with the reason, if the server rejected the message as malformed
   */
  static byte[] body(Message reply) {
    ByteString c = reply.getContent();
    if (c.isEmpty()) {
      throw new IllegalStateException("empty reply from the state machine");
    }
    if (c.byteAt(0) == STATUS_DENIED) {
      throw deniedError(c.substring(1).toStringUtf8());
    }
    if (c.byteAt(0) != STATUS_OK) {
      throw new IllegalStateException(
          "the state machine rejected the request: " + c.substring(1).toStringUtf8());
    }
    return c.substring(1).toByteArray();
  }
}
