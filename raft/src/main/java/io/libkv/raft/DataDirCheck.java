package io.libkv.raft;

import io.libkv.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.ratis.protocol.RaftGroupId;

/**
 * Checks a member's data directory before Ratis opens it, so that a directory that lost part of its
 * state makes the member refuse to start with a message naming the directory and what is wrong,
 * instead of starting with amnesia (a member that forgot its term and vote may vote twice in one
 * term, which breaks Raft's safety) or failing deep inside Ratis.
 *
 * <p>Refused: {@code kv/} holds applied data but the Raft state ({@code raft/<group>/current}: log,
 * term and vote) is gone; the Raft log is there but its {@code raft-meta} (term and vote) is
 * missing or unreadable; {@code kv/} cannot be opened. A member whose whole directory was cleared
 * starts as new and catches up from the leader by snapshot.
 */
final class DataDirCheck {
  /** What every refusal tells the operator to do. */
  static final String REMEDY =
      " Nothing was changed. To rejoin the cluster: remove the member (./libkv member remove ID),"
          + " delete everything in the data directory, start it with --join and add it again"
          + " (./libkv member add ID=HOST:PORT): it catches up from the leader by snapshot. Removing"
          + " it first matters: an emptied member that votes again under its old id could help elect"
          + " a leader missing entries it had acknowledged.";

  private DataDirCheck() {}

  /** The refusal for member {@code id} whose data directory {@code dataDir} has {@code what}. */
  static StoreException damaged(String id, Path dataDir, String what, Throwable cause) {
    return new StoreException(
        "EMBEDDED member "
            + id
            + " refuses to start: its data directory "
            + dataDir
            + " is damaged: "
            + what
            + "."
            + REMEDY,
        cause);
  }

  /**
   * The refusal for member {@code id} whose Raft state Ratis could not open (a damaged log segment,
   * snapshot or metadata file).
   */
  static StoreException ratisRefused(String id, Path dataDir, Throwable failure) {
    Throwable root = failure;
    StringBuilder causes = new StringBuilder(String.valueOf(failure.getMessage()));
    for (int depth = 0; root.getCause() != null && depth < 10; depth++) {
      root = root.getCause();
      causes.append(": ").append(root);
    }
    return new StoreException(
        "EMBEDDED member "
            + id
            + " refuses to start: Ratis cannot open the Raft log and state in its data directory "
            + dataDir
            + " ("
            + causes
            + "); the Raft log, a snapshot or the metadata under raft/ may be damaged."
            + REMEDY,
        failure);
  }

  /**
   * Checks the Raft state of {@code dataDir} against the applied index of its {@code kv/} copy.
   *
   * @throws StoreException naming the directory and what is wrong with it
   */
  static void beforeStart(String id, Path dataDir, RaftGroupId group, long appliedIndex) {
    Path groupDir = dataDir.resolve("raft").resolve(group.getUuid().toString());
    Path current = groupDir.resolve("current");
    boolean hasRaftState = Files.isDirectory(current) && !isEmpty(id, dataDir, current);
    if (!hasRaftState) {
      if (appliedIndex > 0) {
        throw damaged(
            id,
            dataDir,
            "kv/ holds data applied up to Raft log index "
                + appliedIndex
                + ", but the member's Raft state ("
                + dataDir.relativize(current)
                + ": log, term and vote) is missing",
            null);
      }
      return;
    }
    Path meta = current.resolve("raft-meta");
    if (!Files.isRegularFile(meta)) {
      throw damaged(
          id,
          dataDir,
          dataDir.relativize(meta)
              + " (the member's current term and vote) is missing while its Raft log is there",
          null);
    }
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(meta)) {
      p.load(in);
    } catch (IOException | IllegalArgumentException e) {
      throw damaged(id, dataDir, dataDir.relativize(meta) + " cannot be read: " + e, e);
    }
    String term = p.getProperty("term");
    try {
      if (term == null || Long.parseLong(term.trim()) < 0) {
        throw new NumberFormatException("no term");
      }
    } catch (NumberFormatException e) {
      throw damaged(
          id,
          dataDir,
          dataDir.relativize(meta) + " is corrupt (no valid term in it, found " + term + ")",
          e);
    }
  }

  private static boolean isEmpty(String id, Path dataDir, Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isEmpty();
    } catch (IOException e) {
      throw damaged(id, dataDir, dataDir.relativize(dir) + " cannot be listed: " + e, e);
    }
  }
}
