package io.libkv.raft;

import io.libkv.storage.engine.KvEngine;
import io.libkv.storage.engine.OwnerOnly;
import io.libkv.storage.engine.SnapshotInfo;
import io.libkv.store.Config;
import io.libkv.store.StoreException;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.server.storage.RaftStorageImpl;
import org.apache.ratis.server.storage.StorageImplUtils;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.util.MD5FileUtil;
import org.apache.ratis.util.SizeInBytes;

/**
 * Backup and restore of an embedded cluster ({@code ./libkv snapshot save|restore}).
 *
 * <p>{@link #save} asks a running cluster for a consistent copy of its data: the member that serves
 * linearizable reads (the leader for a client-only connection, the member itself for {@link
 * EmbeddedNode#saveSnapshot}) first confirms it has applied every write acknowledged before the
 * call (Raft ReadIndex), then copies its data in one read transaction; the copy travels in chunks
 * and lands in one file, with a header and a SHA-256 of the data. The cluster keeps serving reads
 * and writes meanwhile.
 *
 * <p>{@link #restore} seeds the data directory of a member of a NEW cluster from such a file: run
 * it once per member (each with its own empty directory), then start the members as usual with the
 * new cluster's peers. Every key comes back with its index, and the new cluster's indexes continue
 * above the restored ones, so a watch can resume from an index of the old cluster. A damaged or
 * truncated file is refused before anything is written.
 */
public final class EmbeddedSnapshots {
  private EmbeddedSnapshots() {}

  /**
   * Saves a consistent snapshot of the cluster reached at {@code endpoints} (client-only: no member
   * runs in this process for it; {@code config} carries TLS and options as for {@code
   * LibKV.newStore}) to {@code file}, replacing it only once the whole snapshot is written and
   * synced.
   *
   * @return the Raft log index the snapshot's data holds every write up to
   * @throws io.libkv.store.NotReachableException if no member answers in time
   * @throws StoreException if the snapshot cannot be taken or read back
   * @throws UncheckedIOException if {@code file} cannot be written
   */
  public static long save(List<String> endpoints, Config config, Path file) {
    RaftSettings settings = RaftSettings.of(config);
    RaftChannel<byte[], byte[]> channel =
        new RaftChannel<>(
            Peers.group(settings.group, Peers.parse(endpoints)),
            (RequestRouter.Local) null,
            settings,
            b -> {
              throw new UnsupportedOperationException("a snapshot client does not write");
            },
            b -> List.of(),
            b -> 0,
            null,
            Runnable::run);
    try {
      return SnapshotFile.download(channel, file, waitMs(settings)).appliedIndex();
    } finally {
      channel.close();
    }
  }

  /**
   * Seeds {@code dataDir} for one member of a new cluster from a file written by {@link #save}.
   * {@code dataDir} must not exist or be empty; {@code config} names the Raft group as the members
   * will ({@code embedded.group}, default {@code libkv}). Start the member afterwards with {@link
   * EmbeddedNode#start} (or {@code ./libkv node}) on that directory.
   *
   * @return the Raft log index the restored data holds
   * @throws StoreException if the file is damaged, truncated or not a libkv snapshot (nothing is
   *     written then)
   * @throws IllegalArgumentException if {@code dataDir} holds anything
   * @throws UncheckedIOException if {@code dataDir} cannot be written
   */
  public static long restore(Path file, Path dataDir, Config config) {
    RaftSettings settings = RaftSettings.of(config);
    SnapshotFile.Header h = SnapshotFile.verify(file);
    if (Files.exists(dataDir) && !isEmptyDir(dataDir)) {
      throw new IllegalArgumentException(
          "data directory "
              + dataDir
              + " is not empty: a snapshot seeds a new member's directory; give an empty one");
    }
    Path abs = dataDir.toAbsolutePath();
    Path tmp = abs.resolveSibling(abs.getFileName() + ".restoring");
    FileTrees.delete(tmp);
    try {
      Path group = tmp.resolve("raft").resolve(Peers.groupId(settings.group).getUuid().toString());
      OwnerOnly.createDirectories(group);
      RaftStorageImpl storage =
          StorageImplUtils.newRaftStorage(
              group.toFile(),
              SizeInBytes.ZERO,
              RaftStorage.StartupOption.FORMAT,
              RaftServerConfigKeys.Log.CorruptionPolicy.EXCEPTION);
      try {
        storage.initialize();
        SimpleStateMachineStorage sm = new SimpleStateMachineStorage();
        sm.init(storage);
        // Term 1, the first valid one (Ratis treats a last entry of term 0 as an empty log and
        // refuses such a member's vote): the new cluster's log continues after this index, its
        // first leader at term 1 or later.
        File target = sm.getSnapshotFile(1, h.appliedIndex());
        SnapshotFile.copyData(file, target.toPath());
        checkData(target.toPath(), h.appliedIndex(), tmp.resolve("inspect"));
        MD5FileUtil.computeAndSaveMd5ForFile(target);
        Durable.syncDir(target.getParentFile().toPath());
      } finally {
        storage.close();
      }
      Durable.syncDir(group);
      Durable.syncDir(group.getParent());
      Durable.syncDir(tmp);
      if (Files.exists(abs)) {
        Files.delete(abs); // empty, checked above
      }
      Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
      Durable.syncDir(abs.getParent());
      return h.appliedIndex();
    } catch (IOException e) {
      FileTrees.delete(tmp);
      throw new UncheckedIOException("cannot restore " + file + " into " + dataDir, e);
    } catch (RuntimeException e) {
      FileTrees.delete(tmp);
      throw e;
    }
  }

  /** Opens the copy as LMDB and checks that it holds the index its header says. */
  private static void checkData(Path data, long applied, Path scratch) throws IOException {
    OwnerOnly.createDirectories(scratch);
    try {
      Files.createLink(scratch.resolve("data.mdb"), data);
    } catch (IOException | UnsupportedOperationException e) {
      Files.copy(data, scratch.resolve("data.mdb"));
    }
    try {
      SnapshotInfo info = KvEngine.inspectSnapshot(scratch);
      if (info.appliedIndex() != applied) {
        throw new StoreException(
            "the snapshot's data holds index "
                + info.appliedIndex()
                + ", its header says "
                + applied
                + ". Nothing was changed.");
      }
    } finally {
      FileTrees.delete(scratch);
    }
  }

  static long waitMs(RaftSettings settings) {
    return settings.callWaitMs();
  }

  private static boolean isEmptyDir(Path dir) {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isEmpty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }
}
