package io.libkv.storage.engine;

import java.util.List;

/**
 * A page of the revision history, from {@link ReadView#changesAfter}.
 *
 * @param changes changes in revision order; a page never splits one revision's changes
 * @param scannedTo every change with a revision up to this one has been returned (in this page or
 *     before): continue with {@code changesAfter(scannedTo, ...)}
 */
public record HistoryPage(List<ChangeEvent> changes, long scannedTo) {
  /** Copies the list. */
  public HistoryPage {
    changes = List.copyOf(changes);
  }
}
