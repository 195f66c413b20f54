package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.storage.engine.KvEngine;
import io.libkv.store.PermissionDeniedException;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AccessRulesTest {
  private static final AccessRules.Caller ALICE = new AccessRules.Caller("alice");
  private static final AccessRules.Caller BOB = new AccessRules.Caller("bob");

  private static AccessRules rules() {
    return AccessRules.NONE
        .grant(new AccessRule("alice", "app/", EnumSet.of(Permission.READ, Permission.WRITE)))
        .grant(new AccessRule("bob", "app/public/", Set.of(Permission.READ)))
        .grant(new AccessRule("root", "", Set.of(Permission.ADMIN)));
  }

  @Test
  void withoutRulesEveryoneMayDoEverything() {
    assertFalse(AccessRules.NONE.enabled());
    assertNull(AccessRules.NONE.deny(BOB, "anything", Permission.WRITE));
    assertNull(AccessRules.NONE.deny(BOB, "", Permission.ADMIN));
    assertNull(AccessRules.NONE.denyLease(BOB));
  }

  @Test
  void aCallerMayDoWhatOneOfItsRulesAllowsOnKeysUnderThePrefix() {
    AccessRules r = rules();
    assertTrue(r.enabled());
    assertNull(r.deny(ALICE, "app/x", Permission.WRITE));
    assertNull(r.deny(BOB, "app/public/x", Permission.READ));
    assertNull(r.deny(new AccessRules.Caller("root"), "", Permission.ADMIN));
    assertNull(r.deny(AccessRules.Caller.TRUSTED, "other", Permission.WRITE), "members pass");
    PermissionDeniedException no = r.deny(BOB, "app/x", Permission.READ);
    assertNotNull(no);
    assertEquals("bob", no.identity());
    assertEquals("app/x", no.key());
    assertEquals("read", no.permission());
    assertNotNull(r.deny(BOB, "app/public/x", Permission.WRITE));
    assertNotNull(r.deny(ALICE, "app", Permission.READ), "app/ does not cover the key app");
    assertNotNull(r.deny(ALICE, "", Permission.ADMIN));
    assertNotNull(r.deny(new AccessRules.Caller("carol"), "app/x", Permission.READ));
    assertNull(r.denyLease(ALICE));
    assertNotNull(r.denyLease(BOB), "leases need a write permission somewhere");
  }

  @Test
  void lockQueuesStandForTheirLocksKey() {
    AccessRules r = rules();
    String queue = KvEngine.INTERNAL_PREFIX + "lock/app/l" + KvEngine.INTERNAL_PREFIX;
    assertNull(r.deny(ALICE, queue, Permission.WRITE));
    assertNull(r.deny(ALICE, queue + "0000000000000001", Permission.READ));
    assertNotNull(r.deny(BOB, queue, Permission.READ));
    String hashed = KvEngine.INTERNAL_PREFIX + "lock/#abcdef" + KvEngine.INTERNAL_PREFIX;
    assertNotNull(r.deny(ALICE, hashed, Permission.WRITE), "a hashed queue needs every key");
  }

  @Test
  void grantMergesRevokeRemovesAndTheLastRevokeTurnsPermissionsOff() {
    AccessRules r = rules().grant(new AccessRule("bob", "app/public/", Set.of(Permission.WRITE)));
    assertEquals(3, r.rules().size());
    assertEquals(
        EnumSet.of(Permission.READ, Permission.WRITE),
        EnumSet.copyOf(r.rules().get(1).permissions()));
    r = r.revoke("bob", "app/public/", Set.of(Permission.READ, Permission.WRITE));
    assertEquals(2, r.rules().size());
    r = r.revoke("alice", "app/", EnumSet.allOf(Permission.class));
    r = r.revoke("root", "", Set.of(Permission.ADMIN));
    assertFalse(r.enabled());
  }

  @Test
  void rulesRoundTripAndMalformedBytesAreRefused() {
    AccessRules r = rules();
    assertEquals(r, AccessRules.decode(r.encode()));
    assertEquals(AccessRules.NONE, AccessRules.decode(new byte[0]));
    byte[] bytes = r.encode();
    assertThrows(
        MalformedEntryException.class,
        () -> AccessRules.decode(Arrays.copyOf(bytes, bytes.length - 1)));
    byte[] newer = bytes.clone();
    newer[0] = 9;
    MalformedEntryException e =
        assertThrows(MalformedEntryException.class, () -> AccessRules.decode(newer));
    assertTrue(e.getMessage().contains("version 9"), e.getMessage());
    assertThrows(
        MalformedEntryException.class,
        () -> AccessRules.decode(Arrays.copyOf(bytes, bytes.length + 1)));
  }

  @Test
  void rulesThatMakeNoSenseAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new AccessRule("root", "app/", Set.of(Permission.ADMIN)));
    assertThrows(
        IllegalArgumentException.class, () -> new AccessRule("", "app/", Set.of(Permission.READ)));
    assertThrows(IllegalArgumentException.class, () -> new AccessRule("a", "app/", Set.of()));
    assertEquals("app/", new AccessRule("a", "//app/", Set.of(Permission.READ)).keyPrefix());
  }

  @Test
  void theRefusalTravelsAsTextAndComesBackTyped() {
    PermissionDeniedException no = rules().deny(BOB, "app/x", Permission.WRITE);
    PermissionDeniedException back =
        PermissionDeniedException.fromMessage("Put failed in the state machine: " + no.getMessage())
            .orElseThrow();
    assertEquals(
        List.of("bob", "app/x", "write"), List.of(back.identity(), back.key(), back.permission()));
    PermissionDeniedException admin = rules().deny(BOB, "", Permission.ADMIN);
    assertEquals("", PermissionDeniedException.fromMessage(admin.getMessage()).orElseThrow().key());
    assertTrue(PermissionDeniedException.fromMessage("something else").isEmpty());
  }
}
