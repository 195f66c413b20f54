package io.libkv.raft;

import io.libkv.store.Store;
import io.libkv.store.conformance.AsyncStoreConformanceSuite;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The AsyncStore contract on a 3-member embedded cluster; successive stores are opened on
 * successive members, so pipelined writes also go from a follower through the leader.
 *
 * <p>Tagged slow (run with {@code -Pslow}) like {@link ThreeNodeConformanceIT}: 55-60 s on the
 * shared 2-core machine, most of it starting the cluster and the 3-member write latency; {@link
 * OneNodeAsyncConformanceIT} runs in the default build.
 */
@Tag("slow")
class ThreeNodeAsyncConformanceIT extends AsyncStoreConformanceSuite {
  @RegisterExtension static final EmbeddedClusterExtension KV = EmbeddedClusterExtension.nodes(3);

  @Override
  protected Store openStore() {
    return KV.openStore();
  }
}
