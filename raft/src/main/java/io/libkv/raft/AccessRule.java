package io.libkv.raft;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * One access rule of an embedded cluster with TLS: the client certificate named {@code identity}
 * may use {@code permissions} on every key that starts with {@code keyPrefix} (the empty prefix:
 * every key). An identity's permissions on a key are the union of its rules whose prefix the key
 * starts with. See {@link ClusterAdmin#grant}.
 *
 * @param identity a client certificate's name: its subject's common name (CN)
 * @param keyPrefix the keys the rule covers (leading slashes are dropped, as in stored keys), or
 *     empty for all; matched as a string prefix, so {@code app} also covers {@code apple}: end it
 *     with {@code /} to cover one directory ({@code app/})
 * @param permissions what the rule allows, not empty; {@link Permission#ADMIN} only with the empty
 *     prefix
 */
public record AccessRule(String identity, String keyPrefix, Set<Permission> permissions) {
  /**
   * Checks and copies the rule.
   *
   * @throws IllegalArgumentException if the identity is empty, the permissions are empty, an admin
   *     permission has a non-empty prefix, or either string holds a NUL character
   */
  public AccessRule {
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(keyPrefix, "keyPrefix");
    Objects.requireNonNull(permissions, "permissions");
    while (keyPrefix.startsWith("/")) {
      keyPrefix = keyPrefix.substring(1); // keys are stored without a leading slash
    }
    if (keyPrefix.indexOf('\u0000') >= 0 || identity.indexOf('\u0000') >= 0) {
      throw new IllegalArgumentException("an access rule's identity and prefix cannot hold NUL");
    }
    if (identity.isEmpty()) {
      throw new IllegalArgumentException("an access rule needs an identity");
    }
    if (permissions.isEmpty()) {
      throw new IllegalArgumentException(
          "an access rule needs at least one permission (revoke removes a rule)");
    }
    if (permissions.contains(Permission.ADMIN) && !keyPrefix.isEmpty()) {
      throw new IllegalArgumentException(
          "the admin permission is for the whole cluster: grant it with an empty key prefix, not '"
              + keyPrefix
              + "'");
    }
    permissions = Set.copyOf(EnumSet.copyOf(permissions));
  }

  /** Whether this rule gives {@code identity} the {@code permission} on {@code key}. */
  boolean allows(String identity, String key, Permission permission) {
    return this.identity.equals(identity)
        && permissions.contains(permission)
        && key.startsWith(keyPrefix);
  }
}
