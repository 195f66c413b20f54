package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.libkv.store.Config;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Ratis settings every member runs with that safety depends on. */
class RaftSettingsTest {
  @TempDir Path dir;

  @Test
  void membersRememberAppliedRequestsForFiveMinutesAndNeverFlushLate() {
    RaftProperties p =
        RaftSettings.of(Config.builder().build())
            .serverProperties(Peers.parse(java.util.List.of("n1=127.0.0.1:7001")).get(0), dir);
    // A late copy of an acknowledged write is answered from the retry cache, not applied again:
    // the jepsen-lite soak saw one arrive 120 s late, past Ratis' 60 s default.
    assertEquals(5 * 60, RaftServerConfigKeys.RetryCache.expiryTime(p).toLong(TimeUnit.SECONDS));
    assertFalse(RaftServerConfigKeys.Log.unsafeFlushEnabled(p));
    assertFalse(RaftServerConfigKeys.Log.asyncFlushEnabled(p));
  }
}
