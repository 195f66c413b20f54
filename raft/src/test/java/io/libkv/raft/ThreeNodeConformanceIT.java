package io.libkv.raft;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole Store contract on a 3-member embedded cluster; successive stores are opened on
 * successive members, so a test's two clients usually sit on different members (one of them a
 * follower).
 *
 * <p>Tagged slow (run with {@code -Pslow}): it takes 80-110 s on a 2-core machine, and {@link
 * LeaderStopConformanceIT}, in the default build, runs the same suite on 3 members up to its leader
 * stop and on the 2 survivors after it.
 */
@Tag("slow")
class ThreeNodeConformanceIT extends EmbeddedConformanceBase {
  @RegisterExtension static final EmbeddedClusterExtension KV = EmbeddedClusterExtension.nodes(3);

  @Override
  protected EmbeddedClusterExtension cluster() {
    return KV;
  }
}
