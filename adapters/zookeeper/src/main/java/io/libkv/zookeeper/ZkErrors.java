package io.libkv.zookeeper;

import io.libkv.store.Backend;
import io.libkv.store.CallNotSupportedException;
import io.libkv.store.KeyExistsException;
import io.libkv.store.KeyNotFoundException;
import io.libkv.store.NotReachableException;
import io.libkv.store.StoreException;
import java.util.List;
import org.apache.curator.CuratorConnectionLossException;
import org.apache.zookeeper.KeeperException;

/**
 * The one place where ZooKeeper's and Curator's errors become libkv errors. Conditions the store
 * handles itself (a version mismatch that it turns into {@code KeyModifiedException} with the
 * stored index, a missing parent it creates) never reach here.
 */
final class ZkErrors {
  /** The server setting that TTL nodes need. */
  static final String TTL_SETTING = "zookeeper.extendedTypesEnabled=true";

  private final List<String> endpoints;
  private final String user;

  ZkErrors(List<String> endpoints, String user) {
    this.endpoints = List.copyOf(endpoints);
    this.user = user;
  }

  /**
   * Maps {@code e}, thrown by {@code op} on {@code key} (at znode {@code path}), to a libkv error.
   * Restores the interrupt flag when {@code e} is an {@link InterruptedException}.
   */
  RuntimeException map(Throwable e, String op, String key, String path) {
    if (e instanceof StoreException se) {
      return se;
    }
    if (e instanceof IllegalArgumentException iae) {
      return iae;
    }
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
      return new StoreException(op + " of " + key + " was interrupted", e);
    }
    if (e instanceof CuratorConnectionLossException) {
      return notReachable(op + " of " + key + " failed: no connection to a server", e);
    }
    if (e instanceof KeeperException ke) {
      return switch (ke.code()) {
        case NONODE -> new KeyNotFoundException(key);
        case NODEEXISTS -> new KeyExistsException(key);
        case CONNECTIONLOSS, OPERATIONTIMEOUT, SESSIONEXPIRED, SESSIONMOVED, NOTREADONLY ->
            notReachable(op + " of " + key + " failed: " + ke.code(), e);
        case NOAUTH, AUTHFAILED, SESSIONCLOSEDREQUIRESASLAUTH ->
            new StoreException(
                "ZooKeeper refused "
                    + op
                    + " of "
                    + key
                    + " (znode "
                    + path
                    + ") "
                    + (user == null
                        ? "to an unauthenticated client: the node's ACL needs digest credentials"
                            + " (Config.username/password)"
                        : "to digest user '"
                            + user
                            + "': wrong password, or the node's ACL does not grant this user")
                    + " ["
                    + ke.code()
                    + "]",
                e);
        case UNIMPLEMENTED ->
            new CallNotSupportedException(
                Backend.ZK,
                op,
                "the server refused the request as unimplemented; TTL keys need TTL nodes, which"
                    + " the server allows only when started with -D"
                    + TTL_SETTING);
        case NOCHILDRENFOREPHEMERALS ->
            new StoreException(
                op
                    + " of "
                    + key
                    + " needs a parent that is held by a lock (an ephemeral znode), which cannot"
                    + " have children ["
                    + ke.code()
                    + "]",
                e);
        case BADARGUMENTS ->
            new IllegalArgumentException(
                "ZooKeeper refused the arguments of " + op + " of " + key + ": " + ke.getMessage(),
                e);
        default ->
            new StoreException(
                "ZooKeeper failed "
                    + op
                    + " of "
                    + key
                    + " (znode "
                    + path
                    + "): "
                    + ke.getMessage(),
                e);
      };
    }
    return new StoreException("ZooKeeper failed " + op + " of " + key + ": " + e, e);
  }

  NotReachableException notReachable(String detail, Throwable cause) {
    return new NotReachableException(endpoints, "ZooKeeper: " + detail, cause);
  }

  List<String> endpoints() {
    return endpoints;
  }
}
