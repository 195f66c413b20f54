package io.libkv.bench.jmh;

import io.libkv.store.KVPair;
import io.libkv.store.Store;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.GetOp;
import org.lmdbjava.SeekOp;
import org.lmdbjava.Txn;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Backend.LMDB through the {@link Store} API against raw lmdbjava on the same data: {@code DIRS x
 * 100} keys of 256 bytes ({@code d0000/k00000}...), the same random keys, each side returning what
 * a caller would use (a value byte array; for a list, keys and values). Writes on both sides skip
 * the fsync ({@code lmdb.sync=false}, {@code MDB_NOSYNC}): the durable-write cost is the harness's
 * fsync probe, so these pairs show the store's own overhead. Benchmarks named {@code store*} pair
 * with {@code raw*}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
public class LmdbStoreBench {
  static final int PER_DIR = 100;
  static final int VALUE_BYTES = 256;

  /** The data, loaded once per trial into both a store and a raw environment. */
  @State(Scope.Benchmark)
  public static class Data {
    @Param({"1000"})
    public int dirs;

    Path storeDir;
    Path rawDir;
    Store store;
    Env<ByteBuffer> env;
    Dbi<ByteBuffer> dbi;
    String[] keys;
    byte[][] keyBytes;
    // Every client's read transaction, closed here before the environment (JMH tears the
    // benchmark-scoped state down before the thread-scoped ones).
    final java.util.Queue<Txn<ByteBuffer>> readTxns =
        new java.util.concurrent.ConcurrentLinkedQueue<>();

    @Setup(Level.Trial)
    public void setUp() {
      keys = new String[dirs * PER_DIR];
      keyBytes = new byte[keys.length][];
      for (int d = 0; d < dirs; d++) {
        for (int k = 0; k < PER_DIR; k++) {
          int i = d * PER_DIR + k;
          keys[i] = String.format(Locale.ROOT, "d%04d/k%05d", d, i);
          keyBytes[i] = keys[i].getBytes(StandardCharsets.UTF_8);
        }
      }
      storeDir = BenchDirs.create("store");
      rawDir = BenchDirs.create("raw");
      store = BenchDirs.openLmdbNoSync(storeDir);
      env =
          Env.create()
              .setMapSize(1L << 30)
              .setMaxDbs(1)
              .setMaxReaders(126)
              .open(rawDir.toFile(), EnvFlags.MDB_NOSYNC);
      dbi = env.openDbi("kv", DbiFlags.MDB_CREATE);
      // The store is loaded by concurrent writers (group commit batches them), the raw
      // environment in one transaction: the same keys and values either way.
      loadStore(16);
      ByteBuffer kb = ByteBuffer.allocateDirect(511);
      ByteBuffer vb = ByteBuffer.allocateDirect(VALUE_BYTES);
      try (Txn<ByteBuffer> txn = env.txnWrite()) {
        for (int i = 0; i < keys.length; i++) {
          byte[] v = BenchDirs.value(VALUE_BYTES, i);
          kb.clear();
          kb.put(keyBytes[i]).flip();
          vb.clear();
          vb.put(v).flip();
          dbi.put(txn, kb, vb);
        }
        txn.commit();
      }
    }

    private void loadStore(int threads) {
      List<Thread> loaders = new ArrayList<>();
      java.util.concurrent.atomic.AtomicReference<RuntimeException> failure =
          new java.util.concurrent.atomic.AtomicReference<>();
      for (int t = 0; t < threads; t++) {
        int first = t;
        Thread th =
            new Thread(
                () -> {
                  try {
                    for (int i = first; i < keys.length; i += threads) {
                      store.put(keys[i], BenchDirs.value(VALUE_BYTES, i), null);
                    }
                  } catch (RuntimeException e) {
                    failure.compareAndSet(null, e);
                  }
                },
                "jmh-load-" + t);
        th.start();
        loaders.add(th);
      }
      for (Thread th : loaders) {
        try {
          th.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while loading", e);
        }
      }
      if (failure.get() != null) {
        throw failure.get();
      }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      store.close();
      for (Txn<ByteBuffer> t : readTxns) {
        t.close();
      }
      dbi.close();
      env.close();
      BenchDirs.delete(storeDir);
      BenchDirs.delete(rawDir);
    }
  }

  /** Per-thread random keys and reusable raw buffers and read transaction. */
  @State(Scope.Thread)
  public static class Client {
    SplittableRandom rnd = new SplittableRandom(7);
    ByteBuffer key = ByteBuffer.allocateDirect(511);
    ByteBuffer value = ByteBuffer.allocateDirect(VALUE_BYTES);
    Txn<ByteBuffer> readTxn;
    byte[] fresh = BenchDirs.value(VALUE_BYTES, 99);

    @Setup(Level.Trial)
    public void setUp(Data data) {
      readTxn = data.env.txnRead();
      readTxn.reset();
      data.readTxns.add(readTxn);
    }

    int next(Data data) {
      return rnd.nextInt(data.keys.length);
    }
  }

  @Benchmark
  public KVPair storeGet(Data data, Client c) {
    return data.store.get(data.keys[c.next(data)]);
  }

  @Benchmark
  public byte[] rawGet(Data data, Client c) {
    int i = c.next(data);
    c.key.clear();
    c.key.put(data.keyBytes[i]).flip();
    c.readTxn.renew();
    try {
      ByteBuffer v = data.dbi.get(c.readTxn, c.key);
      byte[] out = new byte[v.remaining()];
      v.get(out);
      return out;
    } finally {
      c.readTxn.reset();
    }
  }

  @Benchmark
  public void storePut(Data data, Client c) {
    data.store.put(data.keys[c.next(data)], c.fresh, null);
  }

  @Benchmark
  public void rawPut(Data data, Client c) {
    int i = c.next(data);
    c.key.clear();
    c.key.put(data.keyBytes[i]).flip();
    c.value.clear();
    c.value.put(c.fresh).flip();
    try (Txn<ByteBuffer> txn = data.env.txnWrite()) {
      data.dbi.put(txn, c.key, c.value);
      txn.commit();
    }
  }

  @Benchmark
  public List<KVPair> storeList(Data data, Client c) {
    return data.store.list(String.format(Locale.ROOT, "d%04d", c.rnd.nextInt(data.dirs)));
  }

  @Benchmark
  public List<Object[]> rawList(Data data, Client c) {
    byte[] prefix =
        String.format(Locale.ROOT, "d%04d/", c.rnd.nextInt(data.dirs))
            .getBytes(StandardCharsets.UTF_8);
    c.key.clear();
    c.key.put(prefix).flip();
    List<Object[]> out = new ArrayList<>(PER_DIR);
    c.readTxn.renew();
    try (Cursor<ByteBuffer> cur = data.dbi.openCursor(c.readTxn)) {
      boolean ok = cur.get(c.key, GetOp.MDB_SET_RANGE);
      while (ok) {
        ByteBuffer k = cur.key();
        if (!startsWith(k, prefix)) {
          break;
        }
        byte[] kb = new byte[k.remaining()];
        k.get(kb);
        ByteBuffer v = cur.val();
        byte[] vb = new byte[v.remaining()];
        v.get(vb);
        out.add(new Object[] {new String(kb, StandardCharsets.UTF_8), vb});
        ok = cur.seek(SeekOp.MDB_NEXT);
      }
    } finally {
      c.readTxn.reset();
    }
    return out;
  }

  private static boolean startsWith(ByteBuffer k, byte[] prefix) {
    if (k.remaining() < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (k.get(k.position() + i) != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
