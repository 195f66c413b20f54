package io.libkv.cli;

import io.libkv.store.WriteOptions;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code ./libkv kv put KEY VALUE}: stores a value, optionally with a time to live. */
@Command(
    name = "put",
    mixinStandardHelpOptions = true,
    description = "Store VALUE at KEY, replacing what is there. Prints OK.")
final class KvPutCommand implements Callable<Integer> {
  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key, a /-separated path.")
  String key;

  @Parameters(
      index = "1",
      paramLabel = "VALUE",
      description = "The value (UTF-8), or - to read its bytes from standard input.")
  String value;

  @Option(
      names = "--ttl",
      converter = DurationConverter.class,
      paramLabel = "DURATION",
      description =
          "Delete the key this long after the put, e.g. 30s. Each backend's resolution and"
              + " minimum apply (see the README); lmdb counts it only while a process has the"
              + " store open.")
  Duration ttl;

  @Override
  public Integer call() {
    return kv.run(
        spec.commandLine(),
        (store, out) -> {
          store.put(key, kv.valueArgument(value), ttl == null ? null : WriteOptions.ttl(ttl));
          out.done("put", key);
          return KvStatus.OK;
        });
  }
}
