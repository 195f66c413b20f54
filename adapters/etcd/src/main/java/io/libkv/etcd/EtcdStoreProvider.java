package io.libkv.etcd;

import io.etcd.jetcd.Client;
import io.libkv.spi.StoreProvider;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.NotReachableException;
import io.libkv.store.Store;
import java.net.URI;
import java.util.List;

/**
 * Opens {@link Backend#ETCD} stores: the libkv contract over etcd's v3 API, through jetcd.
 *
 * <p>Endpoints are {@code host:port}, {@code http://host:port} or {@code https://host:port}; list
 * every member of a cluster and the client fails over between them. TLS is used when the endpoints
 * say {@code https} or the {@link Config} has an {@code SSLContext} or PEM files (client
 * certificates included); {@link Config#username()} and {@link Config#password()} log in with
 * etcd's authentication; {@link Config#bucket()}, if set, prefixes every key with {@code bucket/}
 * on the server. Opening checks that a server answers within {@link Config#connectionTimeout()}; if
 * none does, the store makes one TLS handshake per endpoint itself, so that the {@link
 * io.libkv.store.NotReachableException} names a refused handshake (missing or untrusted client
 * certificate, untrusted server) or, without TLS configured, an endpoint that speaks TLS.
 */
public final class EtcdStoreProvider implements StoreProvider {

  /** Creates the provider; called by {@link java.util.ServiceLoader}. */
  public EtcdStoreProvider() {}

  @Override
  public Backend backend() {
    return Backend.ETCD;
  }

  @Override
  public Store open(List<String> endpoints, Config config) {
    List<URI> uris = EtcdConnector.parseEndpoints(endpoints, config.tlsEnabled());
    Client client = EtcdConnector.connect(uris, config);
    EtcdStore store =
        new EtcdStore(
            client,
            new EtcdErrors(endpoints, config.username().orElse(null), config.connectionTimeout()),
            config);
    try {
      store.probe();
    } catch (NotReachableException e) {
      store.close();
      String why = EtcdTlsProbe.diagnose(uris, config);
      if (why == null) {
        throw e;
      }
      throw new NotReachableException(
          endpoints, "no answer to connect within " + config.connectionTimeout() + "; " + why, e);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }
}
