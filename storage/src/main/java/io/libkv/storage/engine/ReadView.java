package io.libkv.storage.engine;

import java.util.List;

/**
 * One consistent snapshot of the engine, valid only inside the function given to {@link
 * KvReader#read}. Not thread-safe; never keep it.
 */
public interface ReadView {

  /** Returns the entry at {@code key}, or {@code null}. */
  KvEntry get(String key);

  /**
   * Returns every entry whose key starts with {@code prefix} (raw prefix, no {@code /} added),
   * sorted by the keys' UTF-8 bytes. An internal prefix lists internal keys.
   */
  List<KvEntry> listPrefix(String prefix);

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

  /** Returns every stored lease, sorted by id. */
  List<LeaseInfo> leases();
}
