package io.libkv.cli;

import io.libkv.store.KVPair;
import io.libkv.store.Watch;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code ./libkv kv watch KEY}: prints a key's (or a tree's) changes as they happen. */
@Command(
    name = "watch",
    mixinStandardHelpOptions = true,
    description = {
      "Print the changes of KEY until interrupted (Ctrl-C) or --count events: first its current"
          + " value if it exists, then one line per change: put<TAB>KEY<TAB>INDEX<TAB>VALUE or"
          + " delete<TAB>KEY<TAB>INDEX (with --json: one object per line, \"event\" put or delete).",
      "With --tree, KEY is a directory and each event is everything under it: a line"
          + " tree<TAB>DIR<TAB>N, then N lines <TAB>KEY<TAB>INDEX<TAB>VALUE (--json: \"event\":"
          + " \"tree\" with \"pairs\").",
      "A slow reader may see changes merged, never out of order."
    })
final class KvWatchCommand implements Callable<Integer> {
  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "KEY", description = "The key (or, with --tree, the directory).")
  String key;

  @Option(names = "--tree", description = "Watch everything under KEY.")
  boolean tree;

  @Option(
      names = "--after",
      paramLabel = "INDEX",
      description =
          "Resume after INDEX: every change with a larger index, none skipped, then live ones"
              + " (not with --tree; zk and consul keep no history).")
  Long after;

  @Option(
      names = "--count",
      paramLabel = "N",
      description = "Stop after N events and exit 0 (default: until interrupted).")
  long count;

  @Override
  public Integer call() {
    if (tree && after != null) {
      throw new ParameterException(
          spec.commandLine(), "--after resumes a key watch; a --tree watch starts from now");
    }
    if (count < 0) {
      throw new ParameterException(spec.commandLine(), "--count must not be negative");
    }
    return kv.run(
        spec.commandLine(),
        (store, out) -> {
          if (tree) {
            try (Watch<List<KVPair>> w = store.watchTree(key)) {
              return print(w, pairs -> out.tree(key, pairs));
            }
          }
          try (Watch<KVPair> w = after == null ? store.watch(key) : store.watch(key, after)) {
            return print(w, out::event);
          }
        });
  }

  private <T> int print(Watch<T> watch, Consumer<T> printer) {
    try {
      for (long n = 0; count == 0 || n < count; n++) {
        printer.accept(watch.take());
      }
    } catch (InterruptedException e) {
      // Interrupting is how a watch is stopped (Ctrl-C, or the caller of an in-process run): the
      // normal end, so it is not passed on as a failure. The command owns this thread until it
      // returns, and the store is closed next.
      return KvStatus.OK;
    }
    return KvStatus.OK;
  }
}
