package io.libkv.raft;

import io.libkv.store.Store;
import io.libkv.store.conformance.AsyncStoreConformanceSuite;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The AsyncStore contract on a 3-member embedded cluster; successive stores are opened on
 * successive members, so pipelined writes also go from a follower through the leader.
 */
class ThreeNodeAsyncConformanceIT extends AsyncStoreConformanceSuite {
  @RegisterExtension static final EmbeddedClusterExtension KV = EmbeddedClusterExtension.nodes(3);

  @Override
  protected Store openStore() {
    return KV.openStore();
  }
}
