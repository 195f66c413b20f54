package io.libkv.spi;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS material that follows its files: the key manager and trust manager handed to a transport read
 * the material made from the certificate, key, CA (and, for a cluster, revocation list) files, and
 * make it again at the next handshake after one of the files changed (size or modification time). A
 * certificate rotated in place, a new CA bundle or a new revocation list thus takes effect on new
 * connections without a restart; open connections keep theirs.
 *
 * <p>The new material goes through every check of the first (the loader's: for instance the key
 * matching the certificate, dates, the certificate trusted by the CAs). A set of files that fails
 * them (for instance half-written: the new key beside the old certificate) is not used: the
 * previous material stays, a warning says why, and the files are tried again when they change
 * again. Thread-safe: a handshake reads one immutable snapshot of the material. {@link PemTls}
 * makes the material from PEM files.
 */
public final class ReloadingTls {
  /** Told when changed files were taken into use, or refused (the caller logs it). */
  public interface Listener {
    /** The changed files are in use for new connections. */
    void reloaded(List<Path> files);

    /** The changed files cannot be used ({@code why}); the previous material stays. */
    void refused(List<Path> files, String why);

    /**
     * A listener that says what happened, beginning with {@code who} (e.g. {@code "etcd TLS"}): a
     * reload to {@code info}, a refused one to {@code warn} (a logger's methods).
     */
    static Listener logged(String who, Consumer<String> info, Consumer<String> warn) {
      return new Listener() {
        @Override
        public void reloaded(List<Path> files) {
          info.accept(who + " files " + files + " changed: new connections use them");
        }

        @Override
        public void refused(List<Path> files, String why) {
          warn.accept(
              who
                  + " files "
                  + files
                  + " changed but cannot be used, keeping the previous ones: "
                  + why);
        }
      };
    }
  }

  /**
   * What the transport uses: made from the files, checked.
   *
   * @param keys the key manager presenting this side's certificate, or {@code null} for none
   * @param trust the trust manager checking the other side's certificate
   */
  public record Material(X509ExtendedKeyManager keys, X509ExtendedTrustManager trust) {}

  private record Stamp(List<String> attributes) {}

  private final List<Path> files;
  private final Supplier<Material> load;
  private final Listener listener;
  private volatile Material material;
  private volatile Stamp seen;

  /** Presents the current certificate; use only if the material has keys. */
  public final X509ExtendedKeyManager keyManager = new Keys();

  /** Checks the other side with the current trust. */
  public final X509ExtendedTrustManager trustManager = new Trust();

  /**
   * @param files the files the material is made from (a {@code null} entry is ignored)
   * @param load makes the material from the files, throwing {@link IllegalArgumentException} if
   *     they are unfit
   * @param listener told of each later reload or refusal (called on a handshake's thread)
   * @throws IllegalArgumentException from the first {@code load}
   */
  public ReloadingTls(List<Path> files, Supplier<Material> load, Listener listener) {
    this.files = files.stream().filter(Objects::nonNull).toList();
    this.load = load;
    this.listener = Objects.requireNonNull(listener, "listener");
    Stamp before = stamp();
    this.material = load.get();
    this.seen = before;
  }

  private Stamp stamp() {
    List<String> out = new ArrayList<>();
    for (Path f : files) {
      try {
        BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
        out.add(a.size() + "@" + a.lastModifiedTime().toMillis());
      } catch (IOException e) {
        out.add("unreadable");
      }
    }
    return new Stamp(out);
  }

  /** The material, made again first if a file changed since it was last made or tried. */
  public Material current() {
    Stamp now = stamp();
    if (!now.equals(seen)) {
      synchronized (this) {
        if (!now.equals(seen)) {
          seen = now;
          try {
            material = load.get();
            listener.reloaded(files);
          } catch (RuntimeException e) {
            listener.refused(files, e.getMessage());
          }
        }
      }
    }
    return material;
  }

  private final class Keys extends X509ExtendedKeyManager {
    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return current().keys().getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return current().keys().chooseClientAlias(keyType, issuers, socket);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return current().keys().getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return current().keys().chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return material.keys().getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return material.keys().getPrivateKey(alias);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine e) {
      return current().keys().chooseEngineClientAlias(keyType, issuers, e);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine e) {
      return current().keys().chooseEngineServerAlias(keyType, issuers, e);
    }
  }

  private final class Trust extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      current().trust().checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      current().trust().checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      current().trust().checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      current().trust().checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      current().trust().checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      current().trust().checkServerTrusted(chain, authType, engine);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return current().trust().getAcceptedIssuers();
    }
  }
}
