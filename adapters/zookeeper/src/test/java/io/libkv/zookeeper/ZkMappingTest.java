package io.libkv.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.CallNotSupportedException;
import io.libkv.store.KeyExistsException;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.NotReachableException;
import io.libkv.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.RetrySleeper;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The parts of the mapping that need no server: retry deadline, TTL marks, error mapping. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ZkMappingTest {

  @Test
  void retriesStopBeforeAnAttemptCouldOverrunTheTimeout() {
    List<Long> slept = new ArrayList<>();
    RetrySleeper sleeper = (time, unit) -> slept.add(unit.toMillis(time));
    ZkStore.DeadlineRetry retry = new ZkStore.DeadlineRetry(3000);
    assertTrue(retry.allowRetry(0, 0, sleeper), "the first retry right after a failure");
    assertTrue(retry.allowRetry(1, 1500, sleeper));
    assertFalse(retry.allowRetry(2, 2000, sleeper), "no attempt that could end past 3 s");
    assertFalse(retry.allowRetry(0, 3000, sleeper));
    assertEquals(List.of(25L, 50L), slept);
  }

  @Test
  void theTtlMarkIsReadBackFromTheAcl() {
    List<ACL> plain = ZooDefs.Ids.OPEN_ACL_UNSAFE;
    assertEquals(0, ZkStore.ttlOf(plain));
    List<ACL> marked = new ArrayList<>(plain);
    marked.add(new ACL(0, new Id("digest", "libkv-ttl-ms:2500")));
    assertEquals(2500, ZkStore.ttlOf(marked));
    List<ACL> user = new ArrayList<>(plain);
    user.add(new ACL(ZooDefs.Perms.ALL, new Id("digest", "alice:hash")));
    assertEquals(0, ZkStore.ttlOf(user));
  }

  @Test
  void keeperErrorsMapToLibkvErrorsNamingWhatFailed() {
    ZkErrors errors = new ZkErrors(List.of("127.0.0.1:2181"), "alice");
    assertInstanceOf(
        KeyNotFoundException.class,
        errors.map(new KeeperException.NoNodeException("/libkv/k"), "get", "k", "/libkv/k"));
    assertInstanceOf(
        KeyExistsException.class,
        errors.map(new KeeperException.NodeExistsException(), "atomicPut", "k", "/libkv/k"));
    RuntimeException lost =
        errors.map(new KeeperException.ConnectionLossException(), "put", "k", "/libkv/k");
    assertInstanceOf(NotReachableException.class, lost);
    assertTrue(lost.getMessage().contains("127.0.0.1:2181"), lost.getMessage());
    RuntimeException denied =
        errors.map(new KeeperException.NoAuthException(), "get", "k", "/libkv/k");
    assertInstanceOf(StoreException.class, denied);
    assertTrue(denied.getMessage().contains("'alice'"), denied.getMessage());
    assertTrue(denied.getMessage().contains("/libkv/k"), denied.getMessage());
    RuntimeException ttl =
        errors.map(new KeeperException.UnimplementedException(), "put", "k", "/libkv/k");
    assertInstanceOf(CallNotSupportedException.class, ttl);
    assertTrue(ttl.getMessage().contains("zookeeper.extendedTypesEnabled=true"));
  }
}
