package io.libkv.storage.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * What a full map, a low disk or a data cap refuses: the commands that add data, and only those.
 */
class CommandTest {
  @Test
  void putsNewLeasesAndLockPlacesAddDataDeletesAndRenewalsDoNot() {
    assertTrue(new Command.Put("k", new byte[0], 0, 0).addsData());
    assertTrue(new Command.CasPut("k", new byte[0], 3, 0, 0).addsData());
    assertTrue(new Command.LeaseGrant(7, 1000).addsData());
    assertTrue(new Command.LockEnqueue("\0lock/q/", 1000).addsData());
    assertFalse(new Command.Delete("k").addsData());
    assertFalse(new Command.CasDelete("k", 3).addsData());
    assertFalse(new Command.DeleteTree("d").addsData());
    assertFalse(new Command.LeaseKeepAlive(7).addsData());
    assertFalse(new Command.LeaseRevoke(7).addsData());
    assertFalse(new Command.Refused("why").addsData());
  }
}
