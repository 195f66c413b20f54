package io.libkv.raft;

import io.libkv.spi.Keys;
import io.libkv.storage.engine.ClientCall;
import io.libkv.storage.engine.Command;
import io.libkv.storage.engine.CommandCodec;
import io.libkv.storage.engine.CommandResult;
import io.libkv.storage.engine.KvEngine;
import io.libkv.storage.engine.MalformedCommandException;
import io.libkv.storage.engine.OwnerOnly;
import io.libkv.storage.engine.SnapshotInfo;
import io.libkv.store.Config;
import io.libkv.store.PermissionDeniedException;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

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
  private final int maxValueBytes;
  private volatile ParsedRules parsed =
      new ParsedRules(KvEngine.AccessRules.NONE, AccessRules.NONE);

  /** The stored rules and what they decode to, replaced when an apply changes them. */
  private record ParsedRules(KvEngine.AccessRules stored, AccessRules rules) {}

  EngineState(KvEngine engine) {
    this(engine, Config.DEFAULT_MAX_VALUE_BYTES);
  }

  /**
   * @param maxValueBytes the largest value {@link #validate} lets into the log
   */
  EngineState(KvEngine engine, int maxValueBytes) {
    this.engine = engine;
    this.reads = new ReadCodec(engine);
    this.maxValueBytes = maxValueBytes;
  }

  /** Commands a leader checked, as they were decoded. */
  private record CheckedCommands(List<Command> commands) implements Checked {}

  @Override
  public Checked validate(byte[] payload) {
    List<Command> commands = decode(payload, -1);
    for (Command c : commands) {
      if (c instanceof Command.Put p) {
        userKey(p.key());
        value(p.key(), p.value());
        ttl(p.ttlMillis());
      } else if (c instanceof Command.CasPut p) {
        userKey(p.key());
        value(p.key(), p.value());
        ttl(p.ttlMillis());
      } else if (c instanceof Command.Delete d) {
        userKey(d.key());
      } else if (c instanceof Command.CasDelete d) {
        userKey(d.key());
      } else if (c instanceof Command.DeleteTree d) {
        userKey(d.directory());
      } else if (c instanceof Command.LeaseGrant g) {
        ttl(g.ttlMillis());
      } else if (c instanceof Command.SetAccessRules a) {
        AccessRules.decode(a.rules());
      } else if (c instanceof Command.Refused) {
        throw new MalformedEntryException("a refused command comes only from a leader", null);
      } else if (c instanceof Command.LockEnqueue q) {
        if (!q.queuePrefix().startsWith(KvEngine.INTERNAL_PREFIX)
            || Keys.utf8Length(q.queuePrefix()) > Keys.MAX_KEY_BYTES - 17) {
          throw new MalformedEntryException("bad lock queue prefix", null);
        }
        ttl(q.ttlMillis());
      }
    }
    return new CheckedCommands(commands);
  }

  @Override
  public Refusal refuseGrowth(byte[] payload, String reason) {
    List<Command> commands = decode(payload, -1);
    List<Command> out = new ArrayList<>(commands.size());
    int refused = 0;
    for (Command c : commands) {
      if (c.addsData()) {
        out.add(new Command.Refused(reason));
        refused++;
      } else {
        out.add(c);
      }
    }
    if (refused == 0) {
      return null;
    }
    return new Refusal(CommandCodec.encodeCommands(out), refused == commands.size(), reason);
  }

  private static void userKey(String key) {
    String n;
    try {
      n = Keys.normalize(key);
    } catch (IllegalArgumentException e) {
      throw new MalformedEntryException("invalid key: " + e.getMessage(), e);
    }
    if (!n.equals(key) || key.startsWith(KvEngine.INTERNAL_PREFIX)) {
      throw new MalformedEntryException("key is not in normal form: '" + key + "'", null);
    }
  }

  private void value(String key, byte[] value) {
    if (value.length > maxValueBytes) {
      throw new MalformedEntryException(
          "value of " + key + " has " + value.length + " bytes, over the limit of " + maxValueBytes,
          null);
    }
  }

  private static void ttl(long ttlMillis) {
    if (ttlMillis < 0) {
      throw new MalformedEntryException("negative TTL " + ttlMillis + " ms", null);
    }
  }

  private static List<Command> decode(byte[] payload, long logIndex) {
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
    return commands;
  }

  KvEngine engine() {
    return engine;
  }

  @Override
  public long appliedIndex() {
    return engine.appliedIndex();
  }

  @Override
  public byte[] apply(long logIndex, byte[] payload, ClientCall call) {
    return apply(logIndex, decode(payload, logIndex), call);
  }

  @Override
  public byte[] apply(long logIndex, Checked checked, ClientCall call) {
    return apply(logIndex, ((CheckedCommands) checked).commands(), call);
  }

  private byte[] apply(long logIndex, List<Command> commands, ClientCall call) {
    List<CommandResult> results =
        engine.apply(logIndex, logIndex << REVISION_SHIFT, commands, call);
    return CommandCodec.encodeResults(results);
  }

  @Override
  public long liveDataBytes() {
    return engine.liveDataBytes();
  }

  @Override
  public byte[] query(byte[] request, AccessRules.Caller caller) {
    return reads.serve(request, accessRules(), caller);
  }

  @Override
  public AccessRules accessRules() {
    KvEngine.AccessRules stored = engine.accessRules();
    ParsedRules p = parsed;
    if (p.stored() != stored) {
      AccessRules rules;
      try {
        rules = AccessRules.decode(stored.rules());
      } catch (MalformedEntryException e) {
        rules = AccessRules.UNREADABLE;
      }
      p = new ParsedRules(stored, rules);
      parsed = p;
    }
    return p.rules();
  }

  @Override
  public KvEngine.AccessRules storedAccessRules() {
    return engine.accessRules();
  }

  @Override
  public boolean changesAccessRules(Checked checked) {
    for (Command c : ((CheckedCommands) checked).commands()) {
      if (c instanceof Command.SetAccessRules) {
        return true;
      }
    }
    return false;
  }

  @Override
  public Refusal refuseDenied(Checked checked, AccessRules.Caller caller) {
    if (caller.trusted()) {
      return null;
    }
    AccessRules rules = accessRules();
    if (!rules.enabled()) {
      return null;
    }
    List<Command> commands = ((CheckedCommands) checked).commands();
    List<Command> out = new ArrayList<>(commands.size());
    String first = null;
    for (Command c : commands) {
      PermissionDeniedException no = deny(rules, caller, c);
      if (no != null) {
        out.add(new Command.Refused(no.getMessage()));
        first = first == null ? no.getMessage() : first;
      } else {
        out.add(c);
      }
    }
    if (first == null) {
      return null;
    }
    // Several commands may be several callers' (a store batches its callers' writes): each learns
    // its own refusal from the log, so only a lone command is refused before it.
    return new Refusal(CommandCodec.encodeCommands(out), commands.size() == 1, first);
  }

  /** The refusal of one command under {@code rules}, or {@code null}: what each command needs. */
  private static PermissionDeniedException deny(
      AccessRules rules, AccessRules.Caller caller, Command c) {
    if (c instanceof Command.Put p) {
      return rules.deny(caller, p.key(), Permission.WRITE);
    } else if (c instanceof Command.CasPut p) {
      return rules.deny(caller, p.key(), Permission.WRITE);
    } else if (c instanceof Command.Delete d) {
      return rules.deny(caller, d.key(), Permission.WRITE);
    } else if (c instanceof Command.CasDelete d) {
      return rules.deny(caller, d.key(), Permission.WRITE);
    } else if (c instanceof Command.DeleteTree d) {
      // deletes the keys under directory/ and the key named as the directory
      PermissionDeniedException under = rules.deny(caller, d.directory() + "/", Permission.WRITE);
      return under != null ? under : rules.deny(caller, d.directory(), Permission.WRITE);
    } else if (c instanceof Command.LockEnqueue q) {
      return rules.deny(caller, q.queuePrefix(), Permission.WRITE);
    } else if (c instanceof Command.SetAccessRules) {
      return rules.deny(caller, "", Permission.ADMIN);
    } else {
      // a lease grant, renewal or revocation names no key
      return rules.denyLease(caller);
    }
  }

  @Override
  public long snapshotTo(Path file) {
    Path tmp = file.resolveSibling(file.getFileName() + ".dir");
    FileTrees.delete(tmp);
    try {
      SnapshotInfo info = engine.snapshotTo(tmp);
      // The engine runs without LMDB's own fsync (the Raft log is the durable record), and
      // LMDB's copy is synced only when the environment is: sync it here, the caller syncs the
      // directory once the file has its final name.
      Durable.syncFile(tmp.resolve("data.mdb"));
      Files.move(tmp.resolve("data.mdb"), file, StandardCopyOption.ATOMIC_MOVE);
      return info.appliedIndex();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write snapshot " + file, e);
    } finally {
      FileTrees.delete(tmp);
    }
  }

  @Override
  public long restoreFrom(Path file) {
    Path tmp = file.resolveSibling(file.getFileName() + ".restore");
    FileTrees.delete(tmp);
    try {
      if (!linkAsEnvironment(file, tmp)) {
        Files.copy(file, tmp.resolve("data.mdb"));
      }
      return engine.restoreFrom(tmp).appliedIndex();
    } catch (IOException e) {
      throw new StoreException("cannot restore snapshot " + file + ": " + e, e);
    } finally {
      FileTrees.delete(tmp);
    }
  }

  @Override
  public long snapshotAppliedIndex(Path file) {
    Path tmp = file.resolveSibling(file.getFileName() + ".inspect");
    FileTrees.delete(tmp);
    try {
      if (!linkAsEnvironment(file, tmp)) {
        return -1; // unknown without a copy: the caller restores
      }
      return KvEngine.inspectSnapshot(tmp).appliedIndex();
    } catch (IOException | StoreException e) {
      return -1;
    } finally {
      FileTrees.delete(tmp);
    }
  }

  /**
   * Creates {@code dir} (owner-only) and hard-links the snapshot {@code file} into it as an LMDB
   * environment's {@code data.mdb}; returns false, with {@code dir} empty, where the file system
   * cannot link (the caller then copies, or does without).
   */
  private static boolean linkAsEnvironment(Path file, Path dir) throws IOException {
    OwnerOnly.createDirectories(dir);
    try {
      Files.createLink(dir.resolve("data.mdb"), file);
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  @Override
  public void close() {
    engine.close();
  }
}
