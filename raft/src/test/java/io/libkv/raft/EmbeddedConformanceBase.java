package io.libkv.raft;

import io.libkv.store.Store;
import io.libkv.store.conformance.StoreConformanceSuite;

/**
 * The conformance suite over an embedded cluster started by {@link EmbeddedClusterExtension}:
 * subclasses register the extension (with their member count) and return it from {@link
 * #cluster()}; stores are opened on the running members in turn.
 */
abstract class EmbeddedConformanceBase extends StoreConformanceSuite {

  /** The extension the subclass registered. */
  protected abstract EmbeddedClusterExtension cluster();

  @Override
  protected Store openStore() {
    return cluster().openStore();
  }

  @Override
  protected boolean isSharedThread(Thread thread) {
    return SharedThreads.isShared(thread);
  }
}
