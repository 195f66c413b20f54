package io.libkv.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code ./libkv kv get KEY}: prints the value stored at a key. */
@Command(
    name = "get",
    mixinStandardHelpOptions = true,
    description = {
      "Print the value stored at KEY (with --json: its key, value and index).",
      "Exits 3 if nothing is stored there."
    })
final class KvGetCommand implements Callable<Integer> {
  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "KEY", description = "The key, a /-separated path.")
  String key;

  @Override
  public Integer call() {
    return kv.run(
        spec.commandLine(),
        (store, out) -> {
          out.value(store.get(key));
          return KvStatus.OK;
        });
  }
}
