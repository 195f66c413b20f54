package io.libkv.raft;

import java.nio.charset.StandardCharsets;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The envelope of this module's Raft messages, versioned so that a newer node can refuse what it
 * does not understand. The payloads inside are the storage module's command codec.
 *
 * <pre>
 * log entry : [VERSION][ENTRY_WRITES][command batch]
 * query     : [VERSION][QUERY_BARRIER]  or  [VERSION][QUERY_READ][read request]
 * reply     : [STATUS_OK][body]  or  [STATUS_MALFORMED][UTF-8 reason]
 * </pre>
 */
final class Wire {
  static final byte VERSION = 1;
  static final byte ENTRY_WRITES = 1;
  static final byte QUERY_BARRIER = 1;
  static final byte QUERY_READ = 2;
  static final byte STATUS_OK = 0;
  static final byte STATUS_MALFORMED = 1;

  private Wire() {}

  /** Wraps an encoded command batch as a log entry. */
  static Message writes(byte[] batch) {
    return Message.valueOf(
        ByteString.copyFrom(new byte[] {VERSION, ENTRY_WRITES}).concat(ByteString.copyFrom(batch)));
  }

  /** The query that only waits for the ReadIndex; its reply has an empty body. */
  static Message barrier() {
    return Message.valueOf(ByteString.copyFrom(new byte[] {VERSION, QUERY_BARRIER}));
  }

  /** Wraps an encoded read request as a query. */
  static Message read(byte[] request) {
    return Message.valueOf(
        ByteString.copyFrom(new byte[] {VERSION, QUERY_READ}).concat(ByteString.copyFrom(request)));
  }

  /**
   * Returns the command batch of a log entry.
   *
   * @throws MalformedEntryException if the envelope is wrong
   */
  static byte[] entryPayload(ByteString data, long index) {
    if (data.size() < 2) {
      throw new MalformedEntryException(
          "log entry " + index + " has " + data.size() + " bytes, fewer than the 2 of a header",
          null);
    }
    if (data.byteAt(0) != VERSION) {
      throw new MalformedEntryException(
          "log entry " + index + " has format version " + data.byteAt(0) + ", expected " + VERSION,
          null);
    }
    if (data.byteAt(1) != ENTRY_WRITES) {
      throw new MalformedEntryException(
          "log entry " + index + " has unknown kind " + data.byteAt(1), null);
    }
    return data.substring(2).toByteArray();
  }

  /** Serves a query against {@code state}. */
  static Message query(ByteString q, ReplicatedState state) {
    if (q.size() < 2 || q.byteAt(0) != VERSION) {
      throw new MalformedEntryException("query has a bad header", null);
    }
    return switch (q.byteAt(1)) {
      case QUERY_BARRIER -> ok(new byte[0]);
      case QUERY_READ -> ok(state.query(q.substring(2).toByteArray()));
      default -> throw new MalformedEntryException("query has unknown kind " + q.byteAt(1), null);
    };
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
   * @throws IllegalStateException with the reason, if the server rejected the message as malformed
   */
  static byte[] body(Message reply) {
    ByteString c = reply.getContent();
    if (c.isEmpty()) {
      throw new IllegalStateException("empty reply from the state machine");
    }
    if (c.byteAt(0) != STATUS_OK) {
      throw new IllegalStateException(
          "the state machine rejected the request: " + c.substring(1).toStringUtf8());
    }
    return c.substring(1).toByteArray();
  }
}
