package io.libkv.consul;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import io.libkv.store.conformance.StoreConformanceSuite;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;

/**
 * The shared conformance suite against a <b>real</b> Consul agent: {@code CONSUL_HTTP_ADDR}, or a
 * {@code consul agent -dev} this class starts when {@code consul} is on the PATH. Without either it
 * is skipped, by an assumption saying so; it is the only test of this module that checks Consul's
 * semantics (the {@code *ProtocolTest}s check requests and answers against recorded API shapes).
 *
 * <p>Consul sessions live at least 10 s and are invalidated up to twice their TTL late, so the TTL
 * and lock-expiry tests run with a 20 s TTL, the shortest this adapter honours.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConsulStoreConformanceIT extends StoreConformanceSuite {
  private static ConsulAgent agent;

  @BeforeAll
  static void findAgent() throws Exception {
    Optional<ConsulAgent> a = ConsulAgent.find();
    agent = a.orElse(null);
  }

  /** Skips each test, saying why, when no agent can be had (reported per test, with the reason). */
  @BeforeEach
  void requireAgent() {
    assumeTrue(agent != null, ConsulAgent.NO_AGENT);
  }

  @AfterAll
  static void stopAgent() {
    if (agent != null) {
      agent.close();
    }
  }

  @Override
  protected Store openStore() {
    return LibKV.newStore(
        Backend.CONSUL,
        java.util.List.of(agent.endpoint()),
        Config.builder().connectionTimeout(Duration.ofSeconds(10)).build());
  }

  @Override
  protected Set<Gap> gaps() {
    // Consul keeps no history of a key: a blocking query gives only the latest state.
    return EnumSet.of(Gap.WATCH_RESUME);
  }

  @Override
  protected Duration shortTtl() {
    return ConsulStore.MIN_PUT_TTL;
  }

  @Override
  protected boolean isSharedThread(Thread thread) {
    // Java 17's HttpClient cannot be closed; one client per TLS setting is shared by all stores.
    return thread.getName().startsWith("HttpClient-");
  }
}
