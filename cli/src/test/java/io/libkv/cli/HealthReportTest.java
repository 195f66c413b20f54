package io.libkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.raft.MemberStatus;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class HealthReportTest {

  private static MemberStatus status(
      MemberStatus.Role role, String leader, long commit, long applied, String failure) {
    return new MemberStatus(
        "n1",
        "n1=127.0.0.1:7001",
        role,
        3,
        Optional.ofNullable(leader),
        commit,
        applied,
        1024,
        -1,
        0,
        1 << 30,
        Optional.ofNullable(failure));
  }

  @Test
  void readyWhenALeaderIsKnownAndTheCommitIsApplied() {
    HealthReport r = new HealthReport(status(MemberStatus.Role.FOLLOWER, "n2", 10, 10, null));
    assertEquals(200, r.httpStatus());
    assertEquals(
        "{\"ready\":true,\"member\":\"n1\",\"role\":\"FOLLOWER\",\"leader\":\"n2\",\"term\":3,"
            + "\"commitIndex\":10,\"appliedIndex\":10}",
        r.json());
  }

  @Test
  void notReadyWithoutALeader() {
    HealthReport r = new HealthReport(status(MemberStatus.Role.CANDIDATE, null, 10, 10, null));
    assertEquals(503, r.httpStatus());
    assertTrue(r.json().contains("\"ready\":false"), r.json());
    assertTrue(r.json().contains("no leader known"), r.json());
  }

  @Test
  void notReadyWhileCatchingUp() {
    HealthReport r = new HealthReport(status(MemberStatus.Role.FOLLOWER, "n2", 12, 9, null));
    assertEquals(503, r.httpStatus());
    assertTrue(r.json().contains("applied index 9 is behind commit index 12"), r.json());
  }

  @Test
  void notReadyOnceStoppedSayingWhy() {
    HealthReport r =
        new HealthReport(status(MemberStatus.Role.STOPPED, null, 12, 12, "disk full: /data"));
    assertEquals(503, r.httpStatus());
    assertTrue(r.json().contains("member stopped: disk full: /data"), r.json());
  }
}
