package io.libkv.cli;

import io.libkv.store.KVPair;
import io.libkv.store.WriteOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code ./libkv kv cas KEY NEW}: writes a value only if the key is as the caller last saw it. */
@Command(
    name = "cas",
    mixinStandardHelpOptions = true,
    description = {
      "Compare-and-set: store NEW at KEY only if the key is still as last seen. Prints the new"
          + " index (with --json: the new pair).",
      "Exits 4 if the key changed (or, with --create, exists), 3 if it is gone."
    })
final class KvCasCommand implements Callable<Integer> {
  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key, a /-separated path.")
  String key;

  @Parameters(
      index = "1",
      paramLabel = "NEW",
      description = "The new value (UTF-8), or - to read its bytes from standard input.")
  String value;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Previous previous;

  static final class Previous {
    @Option(
        names = "--prev-index",
        required = true,
        paramLabel = "INDEX",
        description = "The index the key must still have (from get --json, or a previous cas).")
    Long index;

    @Option(
        names = "--prev-value",
        required = true,
        paramLabel = "VALUE",
        description = "The value the key must still hold (read, compared, then written by index).")
    String value;

    @Option(names = "--create", required = true, description = "Create KEY; it must not exist.")
    boolean create;
  }

  @Option(
      names = "--ttl",
      converter = DurationConverter.class,
      paramLabel = "DURATION",
      description = "Delete the key this long after the write.")
  Duration ttl;

  @Override
  public Integer call() {
    return kv.run(
        spec.commandLine(),
        (store, out) -> {
          byte[] bytes = kv.valueArgument(value);
          WriteOptions options = ttl == null ? null : WriteOptions.ttl(ttl);
          KVPair seen;
          if (previous.create) {
            seen = null;
          } else if (previous.index != null) {
            // Backends compare the index only: the pair stands for "the key as it was at INDEX".
            seen = new KVPair(key, new byte[0], previous.index);
          } else {
            seen = store.get(key);
            if (!Arrays.equals(seen.value(), previous.value.getBytes(StandardCharsets.UTF_8))) {
              spec.commandLine()
                  .getErr()
                  .println(
                      spec.qualifiedName()
                          + ": "
                          + key
                          + " holds another value than --prev-value (index "
                          + seen.lastIndex()
                          + ")");
              return KvStatus.CONFLICT;
            }
          }
          out.written(store.atomicPut(key, bytes, seen, options));
          return KvStatus.OK;
        });
  }
}
