package io.libkv.storage.engine;

import java.util.concurrent.locks.LockSupport;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One background loop of the project: an Agrona {@link Agent} run by an {@link AgentRunner} on its
 * own daemon thread, which parks up to {@code idleNs} after a duty cycle that found no work and is
 * woken early by {@link #wake()}. An agent's failure is logged and the loop goes on; an agent ends
 * it by throwing {@link org.agrona.concurrent.AgentTerminationException}. The one place loops are
 * started, woken and stopped; a test can instead step an agent with {@link
 * org.agrona.concurrent.AgentInvoker}.
 */
public final class DutyCycle implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DutyCycle.class);

  private final AgentRunner runner;

  /**
   * Starts {@code agent} on a daemon thread named {@code threadName}.
   *
   * @param idleNs the longest park after a cycle that did no work
   */
  public DutyCycle(Agent agent, String threadName, long idleNs) {
    this.runner =
        new AgentRunner(
            new SleepingIdleStrategy(idleNs),
            e -> LOG.warn("{} failed a duty cycle; it goes on", threadName, e),
            null,
            agent);
    AgentRunner.startOnThread(
        runner,
        r -> {
          Thread t = new Thread(r, threadName);
          t.setDaemon(true);
          return t;
        });
  }

  /** Ends the park of an idle loop, so that its next cycle runs now. Any thread. */
  public void wake() {
    Thread t = runner.thread();
    if (t != null && t != AgentRunner.TOMBSTONE) {
      LockSupport.unpark(t);
    }
  }

  /**
   * Stops the loop and returns once its thread has ended (after the agent's {@code onClose}, which
   * runs on that thread). Idempotent.
   */
  @Override
  public void close() {
    runner.close(
        AgentRunner.RETRY_CLOSE_TIMEOUT_MS,
        t -> LOG.warn("{} has not stopped yet; still waiting", t.getName()));
  }
}
