package io.libkv.storage.engine;

import io.libkv.store.HistoryCompactedException;
import java.util.ArrayList;
import java.util.List;

/**
 * One consistent snapshot of the engine, valid only inside the function given to {@link
 * KvReader#read}. Not thread-safe; never keep it.
 *
 * <p>The <em>data calls</em> are {@link #get}, {@link #listPrefix}, {@link #listDirectory}, {@link
 * #changesAfter}, {@link #keyChangesAfter} and {@link #leases}; {@link #revision}, {@link
 * #appliedIndex} and {@link #historyFloor} describe the snapshot. A reader may fetch each snapshot
 * with one request to another process (see {@link KvReader}): a read function that needs several
 * facts asks for them with one composite call ({@code listDirectory}, {@code keyChangesAfter}).
 */
public interface ReadView {

  /** Returns the entry at {@code key}, or {@code null}. */
  KvEntry get(String key);

  /**
   * Returns every entry whose key starts with {@code prefix} (raw prefix, no {@code /} added),
   * sorted by the keys' UTF-8 bytes. An internal prefix lists internal keys.
   */
  List<KvEntry> listPrefix(String prefix);

  /**
   * Returns a directory's children and whether its own key exists. Composite: one data call.
   *
   * @param directory a normalised directory (no trailing {@code /})
   */
  default DirectoryListing listDirectory(String directory) {
    return new DirectoryListing(listPrefix(directory + "/"), get(directory) != null);
  }

  /** The highest revision applied in this snapshot (0 for an empty engine). */
  long revision();

  /** The applied index stored with this snapshot. */
  long appliedIndex();

  /**
   * The history keeps every change with a revision greater than this (0 when nothing was dropped
   * yet).
   */
  long historyFloor();

  /**
   * Returns changes with a revision greater than {@code afterRevision}, in order, about {@code
   * maxChanges} at most (more if needed to finish a revision).
   *
   * @throws HistoryCompactedException if {@code afterRevision < historyFloor()}
   */
  HistoryPage changesAfter(long afterRevision, int maxChanges);

  /**
   * Returns every change of {@code key} with a revision greater than {@code afterRevision}, up to
   * {@link #revision()}, in order. Composite: one data call, however many pages of history it
   * scans.
   *
   * @throws HistoryCompactedException if {@code afterRevision < historyFloor()}
   */
  default List<ChangeEvent> keyChangesAfter(String key, long afterRevision) {
    List<ChangeEvent> out = new ArrayList<>();
    long pos = afterRevision;
    long end = revision();
    while (pos < end) {
      HistoryPage page = changesAfter(pos, 1024);
      for (ChangeEvent e : page.changes()) {
        if (e.key().equals(key)) {
          out.add(e);
        }
      }
      if (page.scannedTo() <= pos) {
        break;
      }
      pos = page.scannedTo();
    }
    return out;
  }

  /** Returns every stored lease, sorted by id. */
  List<LeaseInfo> leases();
}
