package io.libkv.raft;

import java.util.Locale;

/**
 * What an {@link AccessRule} allows on an embedded cluster with TLS.
 *
 * <ul>
 *   <li>{@link #READ}: get, list, watch and tree watch of keys under the rule's prefix;
 *   <li>{@link #WRITE}: put, delete, compare-and-set, tree delete and locks of keys under the
 *       prefix, and renewing or revoking leases;
 *   <li>{@link #ADMIN}: the cluster itself: membership, leadership, backups and the access rules
 *       (an admin rule's prefix is always empty).
 * </ul>
 */
public enum Permission {
  READ,
  WRITE,
  ADMIN;

  /**
   * The name used in errors and on the command line: {@code read}, {@code write}, {@code admin}.
   */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
