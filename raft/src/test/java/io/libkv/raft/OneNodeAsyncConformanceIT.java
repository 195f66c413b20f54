package io.libkv.raft;

import io.libkv.store.Store;
import io.libkv.store.conformance.AsyncStoreConformanceSuite;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The AsyncStore contract on a 1-member embedded cluster. */
class OneNodeAsyncConformanceIT extends AsyncStoreConformanceSuite {
  @RegisterExtension static final EmbeddedClusterExtension KV = EmbeddedClusterExtension.nodes(1);

  @Override
  protected Store openStore() {
    return KV.openStore();
  }
}
