package io.libkv.raft;

import org.junit.jupiter.api.extension.RegisterExtension;

/** The whole Store contract on a 1-member embedded cluster. */
class OneNodeConformanceIT extends EmbeddedConformanceBase {
  @RegisterExtension static final EmbeddedClusterExtension KV = EmbeddedClusterExtension.nodes(1);

  @Override
  protected EmbeddedClusterExtension cluster() {
    return KV;
  }
}
