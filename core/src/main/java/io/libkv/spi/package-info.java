/**
 * The service-provider interface for backend modules: the registry entry ({@link
 * io.libkv.spi.StoreProvider}) and the pieces every backend shares so that they behave alike: key
 * normalisation and limits ({@link io.libkv.spi.Keys}), the watch hand-off ({@link
 * io.libkv.spi.WatchQueue}), the JVM flag check ({@link io.libkv.spi.JvmAccess}), and the one PEM
 * reader for TLS files ({@link io.libkv.spi.PemTls}) with material that follows its files ({@link
 * io.libkv.spi.ReloadingTls}).
 *
 * <p>Applications do not need this package. Everything here is thread-safe. Invalid arguments give
 * {@link IllegalArgumentException} naming the rule that was broken.
 */
package io.libkv.spi;
