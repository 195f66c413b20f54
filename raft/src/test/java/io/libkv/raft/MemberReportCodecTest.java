package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class MemberReportCodecTest {
  @Test
  void aReportSurvivesTheWire() {
    for (MemberStatus.Role role : MemberStatus.Role.values()) {
      MemberReportCodec.Report r =
          new MemberReportCodec.Report(
              new MemberStatus(
                  "n1",
                  "n1=127.0.0.1:7001",
                  role,
                  7,
                  role == MemberStatus.Role.STOPPED ? Optional.empty() : Optional.of("n2"),
                  100,
                  99,
                  4096,
                  50,
                  2048,
                  1L << 40,
                  role == MemberStatus.Role.STOPPED
                      ? Optional.of("disk full: é")
                      : Optional.empty()),
              42,
              List.of("n1=127.0.0.1:7001", "n2=127.0.0.1:7002"),
              role == MemberStatus.Role.LEARNER ? List.of("n3=127.0.0.1:7003") : List.of());
      assertEquals(r, MemberReportCodec.decode(MemberReportCodec.encode(r)));
    }
  }

  @Test
  void aTruncatedOrOverlongReportIsRefused() {
    byte[] ok =
        MemberReportCodec.encode(
            new MemberReportCodec.Report(
                new MemberStatus(
                    "n1",
                    "n1=h:1",
                    MemberStatus.Role.FOLLOWER,
                    1,
                    Optional.empty(),
                    1,
                    1,
                    0,
                    -1,
                    0,
                    1,
                    Optional.empty()),
                -1,
                List.of(),
                List.of()));
    assertThrows(
        IllegalStateException.class,
        () -> MemberReportCodec.decode(Arrays.copyOf(ok, ok.length - 1)));
    assertThrows(
        IllegalStateException.class,
        () -> MemberReportCodec.decode(Arrays.copyOf(ok, ok.length + 1)));
  }
}
