package io.libkv.storage.engine;

import io.libkv.store.KVPair;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A compact, versioned binary encoding of {@link Command} and {@link CommandResult} batches, for
 * the Raft log and its replies. Never Java serialization.
 *
 * <p>Layout (little-endian): {@code [version=1][kind: 'C' commands | 'R' results][count: int32]}
 * then each item as {@code [type: u8][fields]}; strings are {@code [length: int32][UTF-8]}, byte
 * arrays {@code [length: int32][bytes]} (length -1 for {@code null}), numbers int64. Decoding is
 * all-or-nothing: the whole input is decoded (and must be consumed exactly) before anything is
 * returned, so a caller that decodes before applying never applies half an entry.
 *
 * <p>Thread-safe (stateless). Malformed input (truncated, trailing garbage, unknown version or
 * type, invalid UTF-8, impossible lengths) throws {@link MalformedCommandException}, an {@link
 * IllegalArgumentException}, never anything else.
 */
public final class CommandCodec {
  /** The current encoding version, the first byte of every encoding. */
  public static final byte VERSION = 1;

  private static final byte KIND_COMMANDS = 'C';
  private static final byte KIND_RESULTS = 'R';
  private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

  private CommandCodec() {}

  // ---------------------------------------------------------------------------------- commands

  /** Encodes one command (as a batch of one). */
  public static byte[] encodeCommand(Command command) {
    return encodeCommands(List.of(command));
  }

  /** Encodes a batch of commands. */
  public static byte[] encodeCommands(List<? extends Command> commands) {
    Writer w = new Writer(KIND_COMMANDS, commands.size());
    for (Command c : commands) {
      writeCommand(w, c);
    }
    return w.toBytes();
  }

  /**
   * Decodes one command.
   *
   * @throws MalformedCommandException if the input is not exactly one encoded command
   */
  public static Command decodeCommand(byte[] bytes) {
    List<Command> list = decodeCommands(bytes);
    if (list.size() != 1) {
      throw new MalformedCommandException("expected one command, found " + list.size(), 0);
    }
    return list.get(0);
  }

  /** Decodes a batch of commands from a whole array. */
  public static List<Command> decodeCommands(byte[] bytes) {
    return decodeCommands(new UnsafeBuffer(bytes), 0, bytes.length);
  }

  /** Decodes a batch of commands from the remaining bytes of {@code buffer} (not consumed). */
  public static List<Command> decodeCommands(ByteBuffer buffer) {
    DirectBuffer b = wrap(buffer);
    return decodeCommands(b, 0, b.capacity());
  }

  /**
   * Decodes a batch of commands from {@code length} bytes at {@code offset}.
   *
   * @throws MalformedCommandException if the bytes are not exactly one encoded command batch
   */
  public static List<Command> decodeCommands(DirectBuffer buffer, int offset, int length) {
    Reader r = new Reader(buffer, offset, length, KIND_COMMANDS);
    int n = r.count();
    List<Command> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(readCommand(r));
    }
    r.end();
    return out;
  }

  /** Bytes of a batch's header (format version, kind, count), before its commands. */
  public static final int BATCH_HEADER_BYTES = 6;

  /**
   * The exact number of bytes {@code c} takes in an encoded batch (the batch adds {@link
   * #BATCH_HEADER_BYTES} once): what a caller bounding an entry's size counts, without encoding.
   */
  public static int encodedLength(Command c) {
    if (c instanceof Command.Put p) {
      return 1 + str(p.key()) + 4 + p.value().length + 16;
    } else if (c instanceof Command.CasPut p) {
      return 1 + str(p.key()) + 4 + p.value().length + 24;
    } else if (c instanceof Command.Delete d) {
      return 1 + str(d.key());
    } else if (c instanceof Command.CasDelete d) {
      return 1 + str(d.key()) + 8;
    } else if (c instanceof Command.DeleteTree d) {
      return 1 + str(d.directory());
    } else if (c instanceof Command.LeaseGrant) {
      return 1 + 16;
    } else if (c instanceof Command.LeaseKeepAlive || c instanceof Command.LeaseRevoke) {
      return 1 + 8;
    } else if (c instanceof Command.LockEnqueue q) {
      return 1 + str(q.queuePrefix()) + 8;
    } else if (c instanceof Command.Refused f) {
      return 1 + str(f.reason());
    } else if (c instanceof Command.SetAccessRules a) {
      return 1 + 4 + a.rules().length + 8;
    }
    throw new IllegalArgumentException("unknown command " + c);
  }

  private static int str(String s) {
    return 4 + io.libkv.spi.Keys.utf8Length(s);
  }

  private static void writeCommand(Writer w, Command c) {
    if (c instanceof Command.Put p) {
      w.u8(1).str(p.key()).bytes(p.value()).i64(p.leaseId()).i64(p.ttlMillis());
    } else if (c instanceof Command.CasPut p) {
      w.u8(2).str(p.key()).bytes(p.value()).i64(p.expectedIndex()).i64(p.leaseId());
      w.i64(p.ttlMillis());
    } else if (c instanceof Command.Delete d) {
      w.u8(3).str(d.key());
    } else if (c instanceof Command.CasDelete d) {
      w.u8(4).str(d.key()).i64(d.expectedIndex());
    } else if (c instanceof Command.DeleteTree d) {
      w.u8(5).str(d.directory());
    } else if (c instanceof Command.LeaseGrant g) {
      w.u8(6).i64(g.leaseId()).i64(g.ttlMillis());
    } else if (c instanceof Command.LeaseKeepAlive k) {
      w.u8(7).i64(k.leaseId());
    } else if (c instanceof Command.LeaseRevoke r) {
      w.u8(8).i64(r.leaseId());
    } else if (c instanceof Command.LockEnqueue q) {
      w.u8(9).str(q.queuePrefix()).i64(q.ttlMillis());
    } else if (c instanceof Command.Refused f) {
      w.u8(10).str(f.reason());
    } else if (c instanceof Command.SetAccessRules a) {
      w.u8(11).bytes(a.rules()).i64(a.expectedRevision());
    } else {
      throw new IllegalArgumentException("unknown command " + c);
    }
  }

  private static Command readCommand(Reader r) {
    int at = r.pos;
    int type = r.u8();
    switch (type) {
      case 1:
        return new Command.Put(r.str(), r.nonNullBytes(), r.i64(), r.i64());
      case 2:
        return new Command.CasPut(r.str(), r.nonNullBytes(), r.i64(), r.i64(), r.i64());
      case 3:
        return new Command.Delete(r.str());
      case 4:
        return new Command.CasDelete(r.str(), r.i64());
      case 5:
        return new Command.DeleteTree(r.str());
      case 6:
        return new Command.LeaseGrant(r.i64(), r.i64());
      case 7:
        return new Command.LeaseKeepAlive(r.i64());
      case 8:
        return new Command.LeaseRevoke(r.i64());
      case 9:
        return new Command.LockEnqueue(r.str(), r.i64());
      case 10:
        return new Command.Refused(r.str());
      case 11:
        return new Command.SetAccessRules(r.nonNullBytes(), r.i64());
      default:
        throw new MalformedCommandException("unknown command type " + type, at);
    }
  }

  // ----------------------------------------------------------------------------------- results

  /** Encodes a batch of results. */
  public static byte[] encodeResults(List<? extends CommandResult> results) {
    Writer w = new Writer(KIND_RESULTS, results.size());
    for (CommandResult res : results) {
      writeResult(w, res);
    }
    return w.toBytes();
  }

  /** Decodes a batch of results from a whole array. */
  public static List<CommandResult> decodeResults(byte[] bytes) {
    return decodeResults(new UnsafeBuffer(bytes), 0, bytes.length);
  }

  /** Decodes a batch of results from the remaining bytes of {@code buffer} (not consumed). */
  public static List<CommandResult> decodeResults(ByteBuffer buffer) {
    DirectBuffer b = wrap(buffer);
    return decodeResults(b, 0, b.capacity());
  }

  /**
   * Decodes a batch of results.
   *
   * @throws MalformedCommandException if the bytes are not exactly one encoded result batch
   */
  public static List<CommandResult> decodeResults(DirectBuffer buffer, int offset, int length) {
    Reader r = new Reader(buffer, offset, length, KIND_RESULTS);
    int n = r.count();
    List<CommandResult> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(readResult(r));
    }
    r.end();
    return out;
  }

  private static void writeResult(Writer w, CommandResult res) {
    if (res instanceof CommandResult.Written x) {
      // Tag 1 carried the whole pair (value included) back to the writer; 14 carries the revision.
      w.u8(14).i64(x.revision());
    } else if (res instanceof CommandResult.Deleted x) {
      w.u8(2).i32(x.previous().size());
      for (KVPair p : x.previous()) {
        w.pair(p);
      }
      w.i64(x.revision());
    } else if (res instanceof CommandResult.LeaseGranted x) {
      w.u8(3).i64(x.leaseId()).i64(x.ttlMillis());
    } else if (res instanceof CommandResult.LeaseKept x) {
      w.u8(4).i64(x.leaseId()).i64(x.ttlMillis());
    } else if (res instanceof CommandResult.Enqueued x) {
      w.u8(5).i64(x.leaseId()).str(x.waiterKey()).i64(x.revision()).str(x.predecessorKey());
    } else if (res instanceof CommandResult.KeyNotFound x) {
      w.u8(6).str(x.key());
    } else if (res instanceof CommandResult.KeyModified x) {
      w.u8(7).str(x.key()).i64(x.expectedIndex()).i64(x.actualIndex());
    } else if (res instanceof CommandResult.KeyExists x) {
      w.u8(8).str(x.key());
    } else if (res instanceof CommandResult.PreviousNotSpecified x) {
      w.u8(9).str(x.key());
    } else if (res instanceof CommandResult.LeaseNotFound x) {
      w.u8(10).i64(x.leaseId());
    } else if (res instanceof CommandResult.Rejected x) {
      w.u8(11).str(x.reason());
    } else if (res instanceof CommandResult.Skipped x) {
      w.u8(12).i64(x.storedAppliedIndex());
    } else if (res instanceof CommandResult.Failed x) {
      w.u8(13).str(x.reason());
    } else {
      throw new IllegalArgumentException("unknown result " + res);
    }
  }

  private static CommandResult readResult(Reader r) {
    int at = r.pos;
    int type = r.u8();
    switch (type) {
      case 14:
        return new CommandResult.Written(r.i64());
      case 2:
        {
          int n = r.i32();
          r.checkCount(n, 13);
          List<KVPair> pairs = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            pairs.add(r.pair());
          }
          return new CommandResult.Deleted(pairs, r.i64());
        }
      case 3:
        return new CommandResult.LeaseGranted(r.i64(), r.i64());
      case 4:
        return new CommandResult.LeaseKept(r.i64(), r.i64());
      case 5:
        {
          long lease = r.i64();
          String waiter = r.str();
          if (waiter == null) {
            throw new MalformedCommandException("null waiter key", at);
          }
          return new CommandResult.Enqueued(lease, waiter, r.i64(), r.nullableStr());
        }
      case 6:
        return new CommandResult.KeyNotFound(r.str());
      case 7:
        return new CommandResult.KeyModified(r.str(), r.i64(), r.i64());
      case 8:
        return new CommandResult.KeyExists(r.str());
      case 9:
        return new CommandResult.PreviousNotSpecified(r.str());
      case 10:
        return new CommandResult.LeaseNotFound(r.i64());
      case 11:
        return new CommandResult.Rejected(r.str());
      case 12:
        return new CommandResult.Skipped(r.i64());
      case 13:
        return new CommandResult.Failed(r.str());
      default:
        throw new MalformedCommandException("unknown result type " + type, at);
    }
  }

  // ------------------------------------------------------------------------------------ helpers

  private static DirectBuffer wrap(ByteBuffer buffer) {
    if (buffer.isDirect() || (buffer.hasArray() && !buffer.isReadOnly())) {
      return new UnsafeBuffer(buffer, buffer.position(), buffer.remaining());
    }
    byte[] copy = new byte[buffer.remaining()];
    buffer.duplicate().get(copy);
    return new UnsafeBuffer(copy);
  }

  private static final class Writer {
    private final ExpandableArrayBuffer buf = new ExpandableArrayBuffer(64);
    private int pos;

    Writer(byte kind, int count) {
      u8(VERSION);
      u8(kind);
      i32(count);
    }

    Writer u8(int v) {
      buf.putByte(pos, (byte) v);
      pos += 1;
      return this;
    }

    Writer i32(int v) {
      buf.putInt(pos, v, ORDER);
      pos += 4;
      return this;
    }

    Writer i64(long v) {
      buf.putLong(pos, v, ORDER);
      pos += 8;
      return this;
    }

    Writer bytes(byte[] v) {
      if (v == null) {
        return i32(-1);
      }
      i32(v.length);
      buf.putBytes(pos, v);
      pos += v.length;
      return this;
    }

    Writer str(String s) {
      return bytes(s == null ? null : s.getBytes(StandardCharsets.UTF_8));
    }

    Writer pair(KVPair p) {
      return str(p.key()).bytes(p.value()).i64(p.lastIndex());
    }

    byte[] toBytes() {
      byte[] out = new byte[pos];
      buf.getBytes(0, out);
      return out;
    }
  }

  private static final class Reader {
    private final DirectBuffer buf;
    private final int start;
    private final int limit;
    private final CharsetDecoder utf8 =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    int pos;

    Reader(DirectBuffer buf, int offset, int length, byte kind) {
      if (offset < 0 || length < 0 || (long) offset + length > buf.capacity()) {
        throw new MalformedCommandException(
            "range " + offset + "+" + length + " outside a buffer of " + buf.capacity(), offset);
      }
      this.buf = buf;
      this.start = offset;
      this.limit = offset + length;
      this.pos = offset;
      int version = u8();
      if (version != VERSION) {
        throw new MalformedCommandException(
            "unsupported encoding version " + version + " (this build reads " + VERSION + ")", 0);
      }
      int k = u8();
      if (k != kind) {
        throw new MalformedCommandException(
            "expected a "
                + (kind == KIND_COMMANDS ? "command" : "result")
                + " batch, found kind "
                + k,
            1);
      }
    }

    private void need(int n) {
      if (n < 0 || limit - pos < n) {
        throw new MalformedCommandException(
            "truncated: needs " + n + " more bytes, " + (limit - pos) + " left", pos - start);
      }
    }

    int count() {
      int n = i32();
      checkCount(n, 1);
      return n;
    }

    void checkCount(int n, int minBytesEach) {
      if (n < 0 || (long) n * minBytesEach > limit - pos) {
        throw new MalformedCommandException(
            "impossible count " + n + " with " + (limit - pos) + " bytes left", pos - start - 4);
      }
    }

    int u8() {
      need(1);
      return buf.getByte(pos++) & 0xff;
    }

    int i32() {
      need(4);
      int v = buf.getInt(pos, ORDER);
      pos += 4;
      return v;
    }

    long i64() {
      need(8);
      long v = buf.getLong(pos, ORDER);
      pos += 8;
      return v;
    }

    byte[] bytes() {
      int at = pos - start;
      int n = i32();
      if (n == -1) {
        return null;
      }
      if (n < 0) {
        throw new MalformedCommandException("negative length " + n, at);
      }
      need(n);
      byte[] out = new byte[n];
      buf.getBytes(pos, out);
      pos += n;
      return out;
    }

    byte[] nonNullBytes() {
      int at = pos - start;
      byte[] b = bytes();
      if (b == null) {
        throw new MalformedCommandException("null where a value is required", at);
      }
      return b;
    }

    String nullableStr() {
      int at = pos - start;
      byte[] b = bytes();
      if (b == null) {
        return null;
      }
      try {
        return utf8.decode(ByteBuffer.wrap(b)).toString();
      } catch (CharacterCodingException e) {
        throw new MalformedCommandException("invalid UTF-8 in a string", at);
      }
    }

    String str() {
      int at = pos - start;
      String s = nullableStr();
      if (s == null) {
        throw new MalformedCommandException("null where a string is required", at);
      }
      return s;
    }

    KVPair pair() {
      String key = str();
      byte[] value = bytes();
      return new KVPair(key, value, i64());
    }

    void end() {
      if (pos != limit) {
        throw new MalformedCommandException(
            (limit - pos) + " trailing bytes after the batch", pos - start);
      }
    }
  }
}
