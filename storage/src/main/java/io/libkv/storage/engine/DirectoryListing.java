package io.libkv.storage.engine;

import java.util.List;

/**
 * A directory as one snapshot shows it, from {@link ReadView#listDirectory}.
 *
 * @param children every entry under the directory ({@code directory + "/"} as a raw prefix), sorted
 *     by the keys' UTF-8 bytes
 * @param keyExists whether the directory's own key holds a value
 */
public record DirectoryListing(List<KvEntry> children, boolean keyExists) {
  /** Copies the list. */
  public DirectoryListing {
    children = List.copyOf(children);
  }

  /** Whether the directory exists: its own key or at least one child does. */
  public boolean exists() {
    return keyExists || !children.isEmpty();
  }
}
