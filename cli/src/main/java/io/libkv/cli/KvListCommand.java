package io.libkv.cli;

import io.libkv.store.KVPair;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code ./libkv kv ls DIR}: every key under a directory, at any depth. */
@Command(
    name = "ls",
    mixinStandardHelpOptions = true,
    description = {
      "List every key under DIR, at any depth, sorted, one per line as KEY<TAB>VALUE (with"
          + " --json: one pair per line).",
      "Prints nothing if DIR exists with nothing under it; exits 3 if nothing is at or under DIR."
    })
final class KvListCommand implements Callable<Integer> {
  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "DIR", description = "The directory, a /-separated path.")
  String dir;

  @Option(names = "--keys-only", description = "Print the keys only (text output).")
  boolean keysOnly;

  @Override
  public Integer call() {
    return kv.run(
        spec.commandLine(),
        (store, out) -> {
          for (KVPair p : store.list(dir)) {
            out.listed(p, keysOnly);
          }
          return KvStatus.OK;
        });
  }
}
