package io.libkv.raft;

import io.libkv.storage.engine.KvEngine;
import io.libkv.store.PermissionDeniedException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The access rules of an embedded cluster: who may read, write and administer what, kept with the
 * data ({@link io.libkv.storage.engine.Command.SetAccessRules}, so replicated and in snapshots),
 * and the one place their checks are written. With no rule, permissions are off and every caller
 * may do everything (as etcd before its auth is enabled); the first rule turns them on.
 *
 * <p>Callers are named by {@link ClientAccessCheck} from their TLS certificate; a member's own
 * stores, and members calling each other, are not checked ({@link Caller#TRUSTED}).
 *
 * <pre>
 * encoding : [version: u8 = 1][count: int]{[identity: UTF][key prefix: UTF][permissions: u8]}*count
 * </pre>
 *
 * Immutable and thread-safe.
 */
final class AccessRules {
  static final AccessRules NONE = new AccessRules(List.of(), false);

  /**
   * What stored rules that do not decode stand for: every named caller is refused (only a forged
   * entry could store them, as the leader checks rules before the log).
   */
  static final AccessRules UNREADABLE = new AccessRules(List.of(), true);

  private static final byte VERSION = 1;
  private static final int MAX_RULES = 10_000;
  private static final String LOCK_QUEUES = KvEngine.INTERNAL_PREFIX + "lock/";

  private final List<AccessRule> rules;
  private final boolean closed;

  AccessRules(List<AccessRule> rules) {
    this(rules, false);
  }

  private AccessRules(List<AccessRule> rules, boolean closed) {
    this.rules = List.copyOf(rules);
    this.closed = closed;
  }

  /** The rules, in the order they were granted. */
  List<AccessRule> rules() {
    return rules;
  }

  /** Whether permissions are checked at all (some rule exists). */
  boolean enabled() {
    return closed || !rules.isEmpty();
  }

  /** Who makes a call: a named client, or someone not checked (a member or its own stores). */
  record Caller(String identity) {
    static final Caller TRUSTED = new Caller(null);

    boolean trusted() {
      return identity == null;
    }
  }

  /**
   * The refusal of {@code permission} on {@code key} (a key, or a prefix for a list or tree watch,
   * or an internal lock-queue key) for {@code caller}, or {@code null} if allowed.
   */
  PermissionDeniedException deny(Caller caller, String key, Permission permission) {
    if (caller.trusted() || !enabled()) {
      return null;
    }
    String subject = subject(key);
    for (AccessRule r : rules) {
      if (r.allows(caller.identity(), subject, permission)) {
        return null;
      }
    }
    return new PermissionDeniedException(caller.identity(), key, permission.label());
  }

  /** Whether {@code caller} may read {@code key} (what a watch of every change is filtered by). */
  boolean readable(Caller caller, String key) {
    return deny(caller, key, Permission.READ) == null;
  }

  /**
   * The refusal of a lease renewal or revocation: a lease names no key, so it needs the write
   * permission somewhere; {@code null} if allowed.
   */
  PermissionDeniedException denyLease(Caller caller) {
    if (caller.trusted() || !enabled()) {
      return null;
    }
    for (AccessRule r : rules) {
      if (r.identity().equals(caller.identity()) && r.permissions().contains(Permission.WRITE)) {
        return null;
      }
    }
    return new PermissionDeniedException(caller.identity(), "", Permission.WRITE.label());
  }

  /**
   * The user key an internal key stands for: a lock's queue ({@code NUL lock/<key> NUL ...}) stands
   * for the lock's key; a long lock key is hashed in its queue's name, so its queue stands for
   * every key (only a caller with the permission on all keys passes).
   */
  private static String subject(String key) {
    if (!key.startsWith(KvEngine.INTERNAL_PREFIX)) {
      return key;
    }
    if (key.startsWith(LOCK_QUEUES)) {
      String rest = key.substring(LOCK_QUEUES.length());
      int end = rest.indexOf(KvEngine.INTERNAL_PREFIX);
      String id = end < 0 ? rest : rest.substring(0, end);
      if (!id.startsWith("#")) {
        return id;
      }
    }
    return "";
  }

  /**
   * The rules with {@code rule} added (merged into an existing rule of the same identity and
   * prefix).
   */
  AccessRules grant(AccessRule rule) {
    List<AccessRule> out = new ArrayList<>(rules.size() + 1);
    boolean merged = false;
    for (AccessRule r : rules) {
      if (r.identity().equals(rule.identity()) && r.keyPrefix().equals(rule.keyPrefix())) {
        EnumSet<Permission> both = EnumSet.copyOf(r.permissions());
        both.addAll(rule.permissions());
        out.add(new AccessRule(r.identity(), r.keyPrefix(), both));
        merged = true;
      } else {
        out.add(r);
      }
    }
    if (!merged) {
      out.add(rule);
    }
    return new AccessRules(out);
  }

  /**
   * The rules without {@code permissions} for {@code identity} on exactly {@code keyPrefix} (a rule
   * left with no permission is removed).
   */
  AccessRules revoke(String identity, String keyPrefix, Set<Permission> permissions) {
    List<AccessRule> out = new ArrayList<>(rules.size());
    for (AccessRule r : rules) {
      if (r.identity().equals(identity) && r.keyPrefix().equals(keyPrefix)) {
        EnumSet<Permission> left = EnumSet.copyOf(r.permissions());
        left.removeAll(permissions);
        if (!left.isEmpty()) {
          out.add(new AccessRule(identity, keyPrefix, left));
        }
      } else {
        out.add(r);
      }
    }
    return new AccessRules(out);
  }

  /** The rules' bytes; no bytes for no rules. */
  byte[] encode() {
    if (rules.isEmpty()) {
      return new byte[0];
    }
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(b)) {
      out.writeByte(VERSION);
      out.writeInt(rules.size());
      for (AccessRule r : rules) {
        out.writeUTF(r.identity());
        out.writeUTF(r.keyPrefix());
        int mask = 0;
        for (Permission p : r.permissions()) {
          mask |= 1 << p.ordinal();
        }
        out.writeByte(mask);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return b.toByteArray();
  }

  /**
   * Decodes rules; empty bytes are no rules.
   *
   * @throws MalformedEntryException if the bytes are not rules this build reads
   */
  static AccessRules decode(byte[] bytes) {
    if (bytes.length == 0) {
      return NONE;
    }
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
    try {
      int version = in.readUnsignedByte();
      if (version != VERSION) {
        throw new MalformedEntryException(
            "access rules of format version " + version + ", this build reads " + VERSION, null);
      }
      int count = in.readInt();
      if (count < 0 || count > MAX_RULES) {
        throw new MalformedEntryException("access rules claim " + count + " rules", null);
      }
      List<AccessRule> out = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        String identity = in.readUTF();
        String prefix = in.readUTF();
        int mask = in.readUnsignedByte();
        EnumSet<Permission> ps = EnumSet.noneOf(Permission.class);
        for (Permission p : Permission.values()) {
          if ((mask & (1 << p.ordinal())) != 0) {
            ps.add(p);
          }
        }
        if (mask >= 1 << Permission.values().length) {
          throw new MalformedEntryException("access rule " + i + " has unknown permissions", null);
        }
        out.add(new AccessRule(identity, prefix, ps));
      }
      if (in.available() > 0) {
        throw new MalformedEntryException(
            "access rules have " + in.available() + " bytes after their rules", null);
      }
      return new AccessRules(out);
    } catch (IOException e) {
      throw new MalformedEntryException("truncated access rules: " + e, e);
    } catch (IllegalArgumentException e) {
      throw new MalformedEntryException("bad access rule: " + e.getMessage(), e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AccessRules a && rules.equals(a.rules) && closed == a.closed;
  }

  @Override
  public int hashCode() {
    return rules.hashCode() + (closed ? 1 : 0);
  }

  @Override
  public String toString() {
    return "AccessRules" + rules;
  }
}
