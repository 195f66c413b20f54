package io.libkv.raft;

import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.CommandResult;
import io.libkv.storage.engine.KvEngine;
import io.libkv.storage.engine.MalformedCommandException;
import io.libkv.storage.engine.SnapshotInfo;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A member's data: the storage module's LMDB {@link KvEngine}. Log entry {@code i} carrying {@code
 * n} commands gives command {@code k} the revision {@code i * 2^16 + k} (so one entry holds at most
 * 65,536 commands); revisions are therefore strictly increasing in log order and comparable across
 * keys, and equal on every replica.
 *
 * <p>Snapshots: the engine's compacting copy ({@code data.mdb}) moved to the single file Ratis
 * names; restoring links that file into a scratch directory as {@code data.mdb}.
 */
final class EngineState implements ReplicatedState {
  /** Revisions per log entry: command k of entry i has revision (i << REVISION_SHIFT) + k. */
  static final int REVISION_SHIFT = 16;

  private final KvEngine engine;
  private final ReadCodec reads;

  EngineState(KvEngine engine) {
    this.engine = engine;
    this.reads = new ReadCodec(engine);
  }

  KvEngine engine() {
    return engine;
  }

  @Override
  public long appliedIndex() {
    return engine.appliedIndex();
  }

  @Override
  public byte[] apply(long logIndex, byte[] payload) {
    List<Command> commands;
    try {
      commands = CommandCodec.decodeCommands(payload);
    } catch (MalformedCommandException e) {
      throw new MalformedEntryException(e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new MalformedEntryException("undecodable command batch: " + e, e);
    }
    if (commands.size() > (1 << REVISION_SHIFT)) {
      throw new MalformedEntryException(
          "log entry "
              + logIndex
              + " carries "
              + commands.size()
              + " commands, more than the "
              + (1 << REVISION_SHIFT)
              + " revisions an entry has",
          null);
    }
    List<CommandResult> results = engine.apply(logIndex, logIndex << REVISION_SHIFT, commands);
    return CommandCodec.encodeResults(results);
  }

  @Override
  public byte[] query(byte[] request) {
    return reads.serve(request);
  }

  @Override
  public long snapshotTo(Path file) {
    Path tmp = file.resolveSibling(file.getFileName() + ".dir");
    deleteTree(tmp);
    try {
      SnapshotInfo info = engine.snapshotTo(tmp);
      Files.move(tmp.resolve("data.mdb"), file, StandardCopyOption.ATOMIC_MOVE);
      return info.appliedIndex();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write snapshot " + file, e);
    } finally {
      deleteTree(tmp);
    }
  }

  @Override
  public long restoreFrom(Path file) {
    Path tmp = file.resolveSibling(file.getFileName() + ".restore");
    deleteTree(tmp);
    try {
      Files.createDirectories(tmp);
      try {
        Files.createLink(tmp.resolve("data.mdb"), file);
      } catch (IOException | UnsupportedOperationException e) {
        Files.copy(file, tmp.resolve("data.mdb"));
      }
      return engine.restoreFrom(tmp).appliedIndex();
    } catch (IOException e) {
      throw new StoreException("cannot restore snapshot " + file + ": " + e, e);
    } finally {
      deleteTree(tmp);
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }

  @Override
  public void close() {
    engine.close();
  }
}
