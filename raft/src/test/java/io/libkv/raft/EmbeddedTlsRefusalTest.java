package io.libkv.raft;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.CallNotSupportedException;
import io.libkv.store.Config;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded backend has no TLS yet, so a {@link Config} asking for TLS is refused up front
 * (member, client-only store, node, in-process cluster) rather than run in clear text while the
 * caller believes it is encrypted.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EmbeddedTlsRefusalTest {
  @TempDir Path dir;

  @Test
  void aTlsConfigIsRefusedInsteadOfIgnored() throws Exception {
    List<String> peers = List.of("n1=127.0.0.1:1");
    Config.TlsFiles files =
        new Config.TlsFiles(dir.resolve("c.pem"), dir.resolve("k.pem"), dir.resolve("ca.pem"));
    Path member = dir.resolve("member");
    for (Config.Builder tls :
        List.of(Config.builder().tls(SSLContext.getDefault()), Config.builder().tls(files))) {
      Config client = tls.build();
      Config node = tls.nodeId("n1").dataDir(member).build();
      List<Executable> calls =
          List.of(
              () -> LibKV.newStore(Backend.EMBEDDED, peers, client).close(),
              () -> LibKV.newStore(Backend.EMBEDDED, peers, node).close(),
              () -> EmbeddedNode.start(peers, node).close());
      for (Executable call : calls) {
        CallNotSupportedException e = assertThrows(CallNotSupportedException.class, call);
        assertTrue(e.getMessage().contains("TLS"), e.getMessage());
      }
    }
  }
}
