package io.libkv.store;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The store refused a call that the caller's identity has no permission for; nothing was changed.
 * Names the identity, the key (or key prefix, for a list or a tree watch; empty for a call on the
 * whole cluster) and the permission that was missing: {@code read}, {@code write} or {@code admin}.
 */
public class PermissionDeniedException extends StoreException {
  private static final long serialVersionUID = 1L;
  private static final String PREFIX = "permission denied: ";
  private static final Pattern MESSAGE =
      Pattern.compile(
          Pattern.quote(PREFIX)
              + "'(.*)' has no ([a-z]+) permission (?:on key '(.*)'|for the cluster)",
          Pattern.DOTALL);

  private final String identity;
  private final String key;
  private final String permission;

  /**
   * Creates the error.
   *
   * @param identity who called (a client certificate's name)
   * @param key the key or prefix refused; empty for a call on the whole cluster
   * @param permission {@code read}, {@code write} or {@code admin}
   */
  public PermissionDeniedException(String identity, String key, String permission) {
    super(message(identity, key, permission));
    this.identity = identity;
    this.key = key;
    this.permission = permission;
  }

  private static String message(String identity, String key, String permission) {
    return PREFIX
        + "'"
        + identity
        + "' has no "
        + permission
        + " permission "
        + (key.isEmpty() ? "for the cluster" : "on key '" + key + "'");
  }

  /**
   * Recognises the message of a {@code PermissionDeniedException} carried as text (a store's server
   * sends the message; the client calls this to raise the typed error again).
   *
   * @param message a message, possibly with other text before the refusal
   * @return the error the message describes, or empty if it describes none
   */
  public static Optional<PermissionDeniedException> fromMessage(String message) {
    if (message == null) {
      return Optional.empty();
    }
    int at = message.indexOf(PREFIX);
    if (at < 0) {
      return Optional.empty();
    }
    Matcher m = MESSAGE.matcher(message.substring(at));
    if (!m.matches()) {
      return Optional.empty();
    }
    return Optional.of(
        new PermissionDeniedException(
            m.group(1), m.group(3) == null ? "" : m.group(3), m.group(2)));
  }

  /** Who called: the name in the caller's client certificate. */
  public String identity() {
    return identity;
  }

  /** The key or key prefix that was refused; empty for a call on the whole cluster. */
  public String key() {
    return key;
  }

  /** The missing permission: {@code read}, {@code write} or {@code admin}. */
  public String permission() {
    return permission;
  }
}
