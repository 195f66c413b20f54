package io.libkv.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.libkv.raft.MemberStatus;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The answer of {@code GET /health} for one member's status: ready (HTTP 200) when it knows a
 * leader and has applied up to the commit index it heard of, else not ready (HTTP 503) with the
 * reason.
 */
final class HealthReport {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final MemberStatus status;

  HealthReport(MemberStatus status) {
    this.status = status;
  }

  /** Why the member is not ready, or empty if it is. */
  Optional<String> notReadyReason() {
    if (status.role() == MemberStatus.Role.STOPPED) {
      return Optional.of(
          "member stopped" + status.failure().map(f -> ": " + f).orElse(" (closed)"));
    }
    if (status.leaderId().isEmpty()) {
      return Optional.of("no leader known (election in progress or no majority reachable)");
    }
    if (status.appliedIndex() < status.commitIndex()) {
      return Optional.of(
          "catching up: applied index "
              + status.appliedIndex()
              + " is behind commit index "
              + status.commitIndex());
    }
    return Optional.empty();
  }

  /** 200 when ready, else 503. */
  int httpStatus() {
    return notReadyReason().isEmpty() ? 200 : 503;
  }

  /** A one-line JSON object: ready, the reason if not, and the figures it was judged on. */
  String json() {
    Map<String, Object> m = new LinkedHashMap<>();
    Optional<String> reason = notReadyReason();
    m.put("ready", reason.isEmpty());
    reason.ifPresent(r -> m.put("reason", r));
    m.put("member", status.id());
    m.put("role", status.role().name());
    m.put("leader", status.leaderId().orElse(null));
    m.put("term", status.term());
    m.put("commitIndex", status.commitIndex());
    m.put("appliedIndex", status.appliedIndex());
    try {
      return JSON.writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the health report " + m, e);
    }
  }
}
