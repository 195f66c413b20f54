package io.libkv.raft;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole Store contract through client-only stores ({@code LibKV.newStore} without a node id: no
 * member in the store, reads are Raft queries, watches poll the history) of a 3-member cluster.
 * Tagged slow (about as long as the 3-member suite); run with {@code -Pslow}.
 */
@Tag("slow")
class ClientOnlyConformanceIT extends EmbeddedConformanceBase {
  @RegisterExtension static final EmbeddedClusterExtension KV = EmbeddedClusterExtension.nodes(3);

  @Override
  protected EmbeddedClusterExtension cluster() {
    return KV;
  }

  @Override
  protected Store openStore() {
    return LibKV.newStore(Backend.EMBEDDED, KV.endpoints(), Config.defaults());
  }
}
