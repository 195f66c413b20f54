package io.libkv.cli;

import io.libkv.raft.EmbeddedSnapshots;
import io.libkv.store.Config;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ./libkv snapshot save|restore}: backup of a running embedded cluster to one file, and the
 * seeding of a new cluster's members from it ({@link EmbeddedSnapshots}).
 */
@Command(
    name = "snapshot",
    mixinStandardHelpOptions = true,
    description = {
      "Back up a running embedded cluster to one file, or seed a new cluster's members from one.",
      "save: a consistent snapshot holding every write acknowledged before the command; the"
          + " cluster keeps serving meanwhile.",
      "restore: run once per member of the NEW cluster, each with its own empty --data-dir, then"
          + " start the members (./libkv node) with the new cluster's --peers. Keys keep their"
          + " indexes; new ones continue above them."
    },
    subcommands = {SnapshotCommand.Save.class, SnapshotCommand.Restore.class},
    footerHeading = "%nExit status:%n",
    footer = {
      "  0  success",
      "  1  any other error, including a damaged or truncated file (nothing is written then)",
      "  2  usage: bad option",
      "  5  the cluster was not reachable within --timeout"
    })
final class SnapshotCommand implements Runnable {
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code snapshot save FILE}. */
  @Command(
      name = "save",
      mixinStandardHelpOptions = true,
      description = "Save a consistent snapshot of the cluster at --endpoints to FILE.")
  static final class Save implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "Where to write the snapshot.")
    Path file;

    @Mixin ClusterOptions cluster;

    @Override
    public Integer call() {
      KvCommand.quietLibraryLogging();
      CommandLine command = spec.commandLine();
      Config config = cluster.config(command);
      List<String> endpoints = cluster.endpoints(command);
      PrintWriter out = spec.commandLine().getOut();
      try {
        long index = EmbeddedSnapshots.save(endpoints, config, file);
        long bytes = Files.size(file);
        print(out, cluster.json, "saved", file, index, bytes);
        return KvStatus.OK;
      } catch (Exception e) {
        return KvStatus.report("snapshot save", e, cluster.verbose, command.getErr());
      }
    }
  }

  /** {@code snapshot restore FILE --data-dir DIR}. */
  @Command(
      name = "restore",
      mixinStandardHelpOptions = true,
      description =
          "Seed an empty data directory for one member of a new cluster from a snapshot FILE.")
  static final class Restore implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "A file written by save.")
    Path file;

    @Option(
        names = "--data-dir",
        required = true,
        paramLabel = "DIR",
        description = "The new member's data directory: absent or empty.")
    Path dataDir;

    @Option(
        names = "--option",
        paramLabel = "NAME=VALUE",
        description = "A backend option the members will run with (embedded.group), repeatable.")
    Map<String, String> options = Map.of();

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Option(names = "--verbose", description = "On failure print the whole error.")
    boolean verbose;

    @Override
    public Integer call() {
      KvCommand.quietLibraryLogging();
      Config.Builder cb = Config.builder();
      options.forEach(cb::option);
      try {
        long index = EmbeddedSnapshots.restore(file, dataDir, cb.build());
        print(spec.commandLine().getOut(), json, "restored", dataDir, index, Files.size(file));
        return KvStatus.OK;
      } catch (Exception e) {
        return KvStatus.report("snapshot restore", e, verbose, spec.commandLine().getErr());
      }
    }
  }

  private static void print(
      PrintWriter out, boolean json, String what, Path path, long index, long bytes) {
    if (json) {
      com.fasterxml.jackson.databind.node.ObjectNode n =
          JSON.createObjectNode()
              .put(what, path.toString())
              .put("index", index)
              .put("bytes", bytes);
      out.println(n.toString());
    } else {
      out.println(what + " " + path + ": data up to Raft index " + index + ", " + bytes + " bytes");
    }
    out.flush();
  }
}
