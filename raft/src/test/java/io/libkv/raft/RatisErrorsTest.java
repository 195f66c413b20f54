package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.libkv.store.StoreException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class RatisErrorsTest {
  @Test
  void aStateMachineRefusalReadsAsItsReasonWithoutRatisPrefixes() {
    String reason = "member n1 is low on disk space: 1 MiB free in /d (embedded.minFreeDiskBytes)";
    String wrapped =
        "org.apache.ratis.protocol.exceptions.StateMachineException from Server"
            + " n1@group-8FB7518EFC9D: "
            + "org.apache.ratis.protocol.exceptions.StateMachineException from Server"
            + " n1@group-8FB7518EFC9D: "
            + reason;
    RuntimeException e =
        RatisErrors.map(new StateMachineException(wrapped), List.of("n1=127.0.0.1:1"), "write x");
    assertEquals(StoreException.class, e.getClass());
    assertEquals("write x failed in the state machine: " + reason, e.getMessage());
    assertEquals(reason, RatisErrors.stateMachineReason(reason));
    assertEquals("no reason given", RatisErrors.stateMachineReason(null));
  }
}
