package io.libkv.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The watch workload's check of one watcher's log ({@code JepsenRun.unseen}). */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class WatchCheckTest {
  private static final List<String> ACKED = List.of("w0", "w1", "w2", "w3", "w4");
  private static final Map<String, Long> INDEX =
      Map.of("w0", 3L, "w1", 5L, "w2", 11L, "w3", 12L); // w4: seen by no watcher

  @Test
  void everyAcknowledgedWriteMustBeSeen() {
    assertEquals(List.of("w2", "w4"), JepsenRun.unseen("OK 3:w0 5:w1 ERROR:X 12:w3", ACKED, INDEX));
  }

  @Test
  void writesAtOrBelowAReportedHistoryFloorAreNotChecked() {
    // Resumed after floor 5: w0 (3) and w1 (5) could not be replayed; w2 (11) should have been.
    assertEquals(List.of("w2", "w4"), JepsenRun.unseen("OK RESYNC:5 12:w3", ACKED, INDEX));
    assertEquals(List.of("w4"), JepsenRun.unseen("OK RESYNC:11 12:w3", ACKED, INDEX));
  }

  @Test
  void noLogMissesEverything() {
    assertEquals(ACKED, JepsenRun.unseen(null, ACKED, INDEX));
    assertEquals(ACKED, JepsenRun.unseen("ERR NoSuchWatch 3", ACKED, INDEX));
  }
}
