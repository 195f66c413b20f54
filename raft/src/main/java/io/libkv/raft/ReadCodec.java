package io.libkv.raft;

import io.libkv.storage.engine.ChangeEvent;
import io.libkv.storage.engine.HistoryCompactedException;
import io.libkv.storage.engine.HistoryPage;
import io.libkv.storage.engine.KvEngine;
import io.libkv.storage.engine.KvEntry;
import io.libkv.storage.engine.LeaseInfo;
import io.libkv.storage.engine.ReadView;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Read requests of a client-only store (one with no member in its process), served by a member's
 * state machine from its engine, and the proxy {@link ReadView} that sends them. Each {@code
 * ReadView} call is one Raft read-only query.
 *
 * <pre>
 * request : [op] [args]      ops: GET key | LIST prefix | META | CHANGES after max | LEASES
 * reply   : op-specific, see {@link #serve}
 * </pre>
 */
final class ReadCodec {
  static final byte GET = 1;
  static final byte LIST = 2;
  static final byte META = 3;
  static final byte CHANGES = 4;
  static final byte LEASES = 5;

  private final KvEngine engine;

  ReadCodec(KvEngine engine) {
    this.engine = engine;
  }

  /**
   * Serves one request against the engine's current state.
   *
   * @throws MalformedEntryException if the request does not decode
   */
  byte[] serve(byte[] request) {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(request));
    try {
      byte op = in.readByte();
      Out out = new Out();
      switch (op) {
        case GET -> {
          String key = in.readUTF();
          KvEntry e = engine.read(v -> v.get(key));
          out.d.writeBoolean(e != null);
          if (e != null) {
            writeEntry(out.d, e);
          }
        }
        case LIST -> {
          String prefix = in.readUTF();
          List<KvEntry> es = engine.read(v -> v.listPrefix(prefix));
          out.d.writeInt(es.size());
          for (KvEntry e : es) {
            writeEntry(out.d, e);
          }
        }
        case META -> {
          long[] m =
              engine.read(v -> new long[] {v.revision(), v.appliedIndex(), v.historyFloor()});
          out.d.writeLong(m[0]);
          out.d.writeLong(m[1]);
          out.d.writeLong(m[2]);
        }
        case CHANGES -> {
          long after = in.readLong();
          int max = in.readInt();
          try {
            HistoryPage p = engine.read(v -> v.changesAfter(after, max));
            out.d.writeBoolean(true);
            out.d.writeLong(p.scannedTo());
            out.d.writeInt(p.changes().size());
            for (ChangeEvent c : p.changes()) {
              out.d.writeUTF(c.key());
              writeBytes(out.d, c.value());
              out.d.writeLong(c.revision());
              out.d.writeLong(c.createRevision());
              out.d.writeLong(c.leaseId());
            }
          } catch (HistoryCompactedException e) {
            out.d.writeBoolean(false);
            out.d.writeLong(e.requestedAfter());
            out.d.writeLong(e.historyFloor());
          }
        }
        case LEASES -> {
          List<LeaseInfo> ls = engine.read(ReadView::leases);
          out.d.writeInt(ls.size());
          for (LeaseInfo l : ls) {
            out.d.writeLong(l.leaseId());
            out.d.writeLong(l.ttlMillis());
            out.d.writeBoolean(l.keyLease());
          }
        }
        default -> throw new MalformedEntryException("unknown read op " + op, null);
      }
      return out.b.toByteArray();
    } catch (IOException e) {
      throw new MalformedEntryException("truncated read request: " + e, e);
    }
  }

  private static final class Out {
    final ByteArrayOutputStream b = new ByteArrayOutputStream();
    final DataOutputStream d = new DataOutputStream(b);
  }

  private static void writeEntry(DataOutputStream d, KvEntry e) throws IOException {
    d.writeUTF(e.key());
    writeBytes(d, e.value());
    d.writeLong(e.createRevision());
    d.writeLong(e.modRevision());
    d.writeLong(e.leaseId());
  }

  private static KvEntry readEntry(DataInputStream in) throws IOException {
    return new KvEntry(in.readUTF(), readBytes(in), in.readLong(), in.readLong(), in.readLong());
  }

  private static void writeBytes(DataOutputStream d, byte[] v) throws IOException {
    if (v == null) {
      d.writeInt(-1);
    } else {
      d.writeInt(v.length);
      d.write(v);
    }
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0) {
      return null;
    }
    byte[] v = new byte[n];
    in.readFully(v);
    return v;
  }

  /**
   * A {@link ReadView} whose every call is a query through {@code send} (request bytes to reply
   * bytes, blocking). Unlike a local view, two calls are two reads (each linearizable when {@code
   * send} is), not one snapshot.
   */
  static ReadView remoteView(Function<byte[], byte[]> send) {
    return new ReadView() {
      private DataInputStream call(byte op, IoWriter args) {
        try {
          Out o = new Out();
          o.d.writeByte(op);
          args.write(o.d);
          return new DataInputStream(new ByteArrayInputStream(send.apply(o.b.toByteArray())));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public KvEntry get(String key) {
        try {
          DataInputStream in = call(GET, d -> d.writeUTF(key));
          return in.readBoolean() ? readEntry(in) : null;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public List<KvEntry> listPrefix(String prefix) {
        try {
          DataInputStream in = call(LIST, d -> d.writeUTF(prefix));
          int n = in.readInt();
          List<KvEntry> out = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            out.add(readEntry(in));
          }
          return out;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      private long[] meta() {
        try {
          DataInputStream in = call(META, d -> {});
          return new long[] {in.readLong(), in.readLong(), in.readLong()};
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public long revision() {
        return meta()[0];
      }

      @Override
      public long appliedIndex() {
        return meta()[1];
      }

      @Override
      public long historyFloor() {
        return meta()[2];
      }

      @Override
      public HistoryPage changesAfter(long afterRevision, int maxChanges) {
        try {
          DataInputStream in =
              call(
                  CHANGES,
                  d -> {
                    d.writeLong(afterRevision);
                    d.writeInt(maxChanges);
                  });
          if (!in.readBoolean()) {
            throw new HistoryCompactedException(in.readLong(), in.readLong());
          }
          long scannedTo = in.readLong();
          int n = in.readInt();
          List<ChangeEvent> cs = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            cs.add(
                new ChangeEvent(
                    in.readUTF(), readBytes(in), in.readLong(), in.readLong(), in.readLong()));
          }
          return new HistoryPage(cs, scannedTo);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public List<LeaseInfo> leases() {
        try {
          DataInputStream in = call(LEASES, d -> {});
          int n = in.readInt();
          List<LeaseInfo> out = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            out.add(new LeaseInfo(in.readLong(), in.readLong(), in.readBoolean()));
          }
          return out;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    };
  }

  @FunctionalInterface
  private interface IoWriter {
    void write(DataOutputStream d) throws IOException;
  }
}
