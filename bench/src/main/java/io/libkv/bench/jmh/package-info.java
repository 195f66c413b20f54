/**
 * JMH microbenchmarks of the hot paths: the LMDB store against raw lmdbjava on the same data
 * (benchmark methods named {@code store*} and {@code raw*}, so the report can pair them), the
 * command codec, the engine applying a batch, watch fan-out and lock acquire/release.
 *
 * <p>Run them with {@code libkv bench jmh}; each fork gets the JVM flags lmdbjava and Agrona need.
 * State objects are per benchmark (or per thread where marked) and clean up their temporary
 * directories in their tear-down. A failure in setup fails the benchmark, it is never skipped.
 */
package io.libkv.bench.jmh;
