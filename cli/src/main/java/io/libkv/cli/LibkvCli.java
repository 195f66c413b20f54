package io.libkv.cli;

import io.libkv.bench.BenchCommand;
import io.libkv.jepsen.JepsenCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./libkv} command line. */
@Command(
    name = "libkv",
    mixinStandardHelpOptions = true,
    version = "libkv-java 0.1.0-SNAPSHOT",
    description = "libkv-java: one key-value Store API, and an embedded Raft-replicated store.",
    subcommands = {
      DemoCommand.class,
      NodeCommand.class,
      BenchCommand.class,
      JepsenCommand.class,
      CommandLine.HelpCommand.class
    })
public final class LibkvCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    quietLibraryLogging();
    System.exit(newCommandLine().execute(args));
  }

  /**
   * Ratis' shaded gRPC logs through java.util.logging at INFO; the command line shows only warnings
   * from libraries, unless the user configured logging themselves.
   */
  private static void quietLibraryLogging() {
    if (System.getProperty("java.util.logging.config.file") == null) {
      java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
      root.setLevel(java.util.logging.Level.WARNING);
      for (java.util.logging.Handler h : root.getHandlers()) {
        h.setLevel(java.util.logging.Level.WARNING);
      }
    }
  }

  static CommandLine newCommandLine() {
    return new CommandLine(new LibkvCli());
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
