package io.libkv.cli;

import io.libkv.store.KVPair;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code ./libkv kv del KEY}: deletes a key, a whole tree, or a key as last seen. */
@Command(
    name = "del",
    mixinStandardHelpOptions = true,
    description = {
      "Delete KEY (not what lies under it). Prints OK.",
      "Exits 3 if nothing is stored there, 4 if --prev-index no longer matches."
    })
final class KvDeleteCommand implements Callable<Integer> {
  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "KEY", description = "The key, a /-separated path.")
  String key;

  @ArgGroup(exclusive = true)
  How how;

  static final class How {
    @Option(
        names = "--tree",
        required = true,
        description = "Delete KEY and everything under it; nothing there is not an error.")
    boolean tree;

    @Option(
        names = "--prev-index",
        required = true,
        paramLabel = "INDEX",
        description = "Delete only if the key's index is still INDEX (compare-and-delete).")
    Long prevIndex;
  }

  @Override
  public Integer call() {
    return kv.run(
        spec.commandLine(),
        (store, out) -> {
          if (how != null && how.tree) {
            store.deleteTree(key);
          } else if (how != null && how.prevIndex != null) {
            store.atomicDelete(key, new KVPair(key, new byte[0], how.prevIndex));
          } else {
            store.delete(key);
          }
          out.done("delete", key);
          return KvStatus.OK;
        });
  }
}
