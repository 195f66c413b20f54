package io.libkv.raft;

import io.libkv.storage.engine.ChangeEvent;
import io.libkv.storage.engine.DirectoryListing;
import io.libkv.storage.engine.HistoryPage;
import io.libkv.storage.engine.KvEngine;
import io.libkv.storage.engine.KvEntry;
import io.libkv.storage.engine.KvReader;
import io.libkv.storage.engine.LeaseInfo;
import io.libkv.storage.engine.ReadView;
import io.libkv.store.HistoryCompactedException;
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
 * state machine from one snapshot of its engine, and the {@link KvReader} that sends them. Each
 * {@code read} of that reader is one request: the read function's one data call (see {@link
 * ReadView}), answered together with the snapshot's revision, applied index and history floor.
 *
 * <pre>
 * request : [op] [args]      ops: GET key | LIST prefix | META | CHANGES after max | LEASES
 *                                 | LIST_DIR directory | KEY_CHANGES key after
 * reply   : [revision: long] [appliedIndex: long] [historyFloor: long] [op-specific, see serve]
 * </pre>
 *
 * <p>The whole reply, header included, comes from one {@code engine.read}. The format is the one of
 * {@link Wire#QUERY_READ} (replies of older kinds had no header and are refused by kind); a request
 * that does not decode exactly is refused with {@link MalformedEntryException}.
 */
final class ReadCodec {
  static final byte GET = 1;
  static final byte LIST = 2;
  static final byte META = 3;
  static final byte CHANGES = 4;
  static final byte LEASES = 5;
  static final byte LIST_DIR = 6;
  static final byte KEY_CHANGES = 7;

  private final KvEngine engine;

  ReadCodec(KvEngine engine) {
    this.engine = engine;
  }

  /**
   * Serves one request against one snapshot of the engine's current state.
   *
   * @throws MalformedEntryException if the request does not decode, or has bytes after its args
   */
  byte[] serve(byte[] request) {
    return serve(request, AccessRules.NONE, AccessRules.Caller.TRUSTED);
  }

  /**
   * Serves one request of {@code caller} under {@code rules}: a key, prefix or directory it may not
   * read is refused before the snapshot is taken, and a page of every change ({@code CHANGES})
   * holds only the changes of keys it may read (its scan position still moves past the others).
   *
   * @throws MalformedEntryException if the request does not decode, or has bytes after its args
   * @throws io.libkv.store.PermissionDeniedException if the caller may not read what it asks for
   */
  byte[] serve(byte[] request, AccessRules rules, AccessRules.Caller caller) {
    Query q = decode(request, rules, caller);
    return engine.read(
        v -> {
          Out out = new Out();
          try {
            out.d.writeLong(v.revision());
            out.d.writeLong(v.appliedIndex());
            out.d.writeLong(v.historyFloor());
            q.answer(v, out.d);
          } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
          }
          return out.b.toByteArray();
        });
  }

  /** What one request asks of the snapshot, decoded and checked before the snapshot is taken. */
  @FunctionalInterface
  private interface Query {
    void answer(ReadView v, DataOutputStream out) throws IOException;
  }

  private static void require(AccessRules rules, AccessRules.Caller caller, String key) {
    io.libkv.store.PermissionDeniedException no = rules.deny(caller, key, Permission.READ);
    if (no != null) {
      throw no;
    }
  }

  private static Query decode(byte[] request, AccessRules rules, AccessRules.Caller caller) {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(request));
    try {
      byte op = in.readByte();
      Query q =
          switch (op) {
            case GET -> {
              String key = in.readUTF();
              require(rules, caller, key);
              yield (v, out) -> {
                KvEntry e = v.get(key);
                out.writeBoolean(e != null);
                if (e != null) {
                  writeEntry(out, e);
                }
              };
            }
            case LIST -> {
              String prefix = in.readUTF();
              require(rules, caller, prefix);
              yield (v, out) -> writeEntries(out, v.listPrefix(prefix));
            }
            case LIST_DIR -> {
              String directory = in.readUTF();
              // the listing is of the keys under directory/; whether the key named as the
              // directory exists is told only to a caller who may read it
              require(rules, caller, directory + "/");
              boolean seesKey = rules.readable(caller, directory);
              yield (v, out) -> {
                DirectoryListing l = v.listDirectory(directory);
                out.writeBoolean(l.keyExists() && seesKey);
                writeEntries(out, l.children());
              };
            }
            case META -> (v, out) -> {};
            case CHANGES -> {
              long after = in.readLong();
              int max = in.readInt();
              if (max < 1) {
                throw new MalformedEntryException("CHANGES asks for " + max + " changes", null);
              }
              yield (v, out) -> {
                HistoryPage p;
                try {
                  p = v.changesAfter(after, max);
                } catch (HistoryCompactedException e) {
                  writeCompacted(out, e);
                  return;
                }
                out.writeBoolean(true);
                out.writeLong(p.scannedTo());
                if (caller.trusted() || !rules.enabled()) {
                  writeChanges(out, p.changes());
                } else {
                  List<ChangeEvent> seen = new ArrayList<>(p.changes().size());
                  for (ChangeEvent e : p.changes()) {
                    if (rules.readable(caller, e.key())) {
                      seen.add(e);
                    }
                  }
                  writeChanges(out, seen);
                }
              };
            }
            case KEY_CHANGES -> {
              String key = in.readUTF();
              long after = in.readLong();
              require(rules, caller, key);
              yield (v, out) -> {
                List<ChangeEvent> cs;
                try {
                  cs = v.keyChangesAfter(key, after);
                } catch (HistoryCompactedException e) {
                  writeCompacted(out, e);
                  return;
                }
                out.writeBoolean(true);
                writeChanges(out, cs);
              };
            }
            case LEASES ->
                (v, out) -> {
                  List<LeaseInfo> ls = v.leases();
                  out.writeInt(ls.size());
                  for (LeaseInfo l : ls) {
                    out.writeLong(l.leaseId());
                    out.writeLong(l.ttlMillis());
                    out.writeBoolean(l.keyLease());
                  }
                };
            default -> throw new MalformedEntryException("unknown read op " + op, null);
          };
      if (in.available() > 0) {
        throw new MalformedEntryException(
            "read op " + op + " has " + in.available() + " bytes after its arguments", null);
      }
      return q;
    } catch (IOException e) {
      throw new MalformedEntryException("truncated read request: " + e, e);
    }
  }

  private static final class Out {
    final ByteArrayOutputStream b = new ByteArrayOutputStream();
    final DataOutputStream d = new DataOutputStream(b);
  }

  private static HistoryCompactedException compacted(long requestedAfter, long historyFloor) {
    return new HistoryCompactedException(null, requestedAfter, historyFloor + 1);
  }

  private static void writeCompacted(DataOutputStream d, HistoryCompactedException e)
      throws IOException {
    d.writeBoolean(false);
    d.writeLong(e.requestedAfter());
    // On the wire: the history floor, the index before the oldest one available.
    d.writeLong(e.oldestAvailable() - 1);
  }

  private static void writeEntries(DataOutputStream d, List<KvEntry> es) throws IOException {
    d.writeInt(es.size());
    for (KvEntry e : es) {
      writeEntry(d, e);
    }
  }

  private static List<KvEntry> readEntries(DataInputStream in) throws IOException {
    int n = in.readInt();
    List<KvEntry> out = new ArrayList<>(Math.max(0, Math.min(n, 1024)));
    for (int i = 0; i < n; i++) {
      out.add(readEntry(in));
    }
    return out;
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

  private static void writeChanges(DataOutputStream d, List<ChangeEvent> cs) throws IOException {
    d.writeInt(cs.size());
    for (ChangeEvent c : cs) {
      d.writeUTF(c.key());
      writeBytes(d, c.value());
      d.writeLong(c.revision());
      d.writeLong(c.createRevision());
      d.writeLong(c.leaseId());
    }
  }

  private static List<ChangeEvent> readChanges(DataInputStream in) throws IOException {
    int n = in.readInt();
    List<ChangeEvent> cs = new ArrayList<>(Math.max(0, Math.min(n, 1024)));
    for (int i = 0; i < n; i++) {
      cs.add(
          new ChangeEvent(
              in.readUTF(), readBytes(in), in.readLong(), in.readLong(), in.readLong()));
    }
    return cs;
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
   * The reader of a client-only store: each {@code read} runs its function against a fresh {@link
   * #remoteView} over {@code send}, so it is one request answered from one snapshot.
   */
  static KvReader reader(Function<byte[], byte[]> send) {
    return new KvReader() {
      @Override
      public <T> T read(Function<ReadView, T> fn) {
        return fn.apply(remoteView(send));
      }
    };
  }

  /**
   * A {@link ReadView} for one read function, answered by one request through {@code send} (request
   * bytes to reply bytes, blocking): its first data call, or its first snapshot accessor if that
   * comes first. The accessors are then answered from that reply's snapshot; a second request would
   * read another snapshot and is refused with {@link IllegalStateException}.
   */
  static ReadView remoteView(Function<byte[], byte[]> send) {
    return new ReadView() {
      private long[] meta; // revision, applied index, history floor of the one snapshot

      private DataInputStream call(byte op, IoWriter args) {
        if (meta != null) {
          throw new IllegalStateException(
              "a read of a client-only store is one request from one snapshot: op "
                  + op
                  + " would be a second (read several facts with one composite call)");
        }
        try {
          Out o = new Out();
          o.d.writeByte(op);
          args.write(o.d);
          DataInputStream in =
              new DataInputStream(new ByteArrayInputStream(send.apply(o.b.toByteArray())));
          meta = new long[] {in.readLong(), in.readLong(), in.readLong()};
          return in;
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
          return readEntries(call(LIST, d -> d.writeUTF(prefix)));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public DirectoryListing listDirectory(String directory) {
        try {
          DataInputStream in = call(LIST_DIR, d -> d.writeUTF(directory));
          boolean keyExists = in.readBoolean();
          return new DirectoryListing(readEntries(in), keyExists);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      private long[] meta() {
        if (meta == null) {
          call(META, d -> {});
        }
        return meta;
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
            throw compacted(in.readLong(), in.readLong());
          }
          long scannedTo = in.readLong();
          return new HistoryPage(readChanges(in), scannedTo);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public List<ChangeEvent> keyChangesAfter(String key, long afterRevision) {
        try {
          DataInputStream in =
              call(
                  KEY_CHANGES,
                  d -> {
                    d.writeUTF(key);
                    d.writeLong(afterRevision);
                  });
          if (!in.readBoolean()) {
            throw compacted(in.readLong(), in.readLong());
          }
          return readChanges(in);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public List<LeaseInfo> leases() {
        try {
          DataInputStream in = call(LEASES, d -> {});
          int n = in.readInt();
          List<LeaseInfo> out = new ArrayList<>(Math.max(0, Math.min(n, 1024)));
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
