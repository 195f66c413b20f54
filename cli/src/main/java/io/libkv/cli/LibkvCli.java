package io.libkv.cli;

import io.libkv.bench.BenchCommand;
import io.libkv.jepsen.JepsenCommand;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./libkv} command line. */
@Command(
    name = "libkv",
    mixinStandardHelpOptions = true,
    versionProvider = LibkvCli.BuildVersion.class,
    description = "libkv-java: one key-value Store API, and an embedded Raft-replicated store.",
    subcommands = {
      DemoCommand.class,
      NodeCommand.class,
      KvCommand.class,
      SnapshotCommand.class,
      MemberCommand.class,
      LeaderCommand.class,
      AccessCommand.class,
      StatusCommand.class,
      BenchCommand.class,
      JepsenCommand.class,
      CommandLine.HelpCommand.class
    })
public final class LibkvCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    quietLibraryLogging();
    CommandLine cli = newCommandLine();
    cli.setExecutionStrategy(LibkvCli::execute);
    System.exit(cli.execute(args));
  }

  private static int execute(CommandLine.ParseResult parsed) {
    Object command =
        parsed.subcommand() == null ? null : parsed.subcommand().commandSpec().userObject();
    boolean cluster =
        command instanceof MemberCommand
            || command instanceof LeaderCommand
            || command instanceof StatusCommand;
    if ((command instanceof KvCommand kv && !kv.verbose) || (cluster && !verbose(parsed))) {
      KvCommand.quietLibraryLogging();
    }
    return new CommandLine.RunLast().execute(parsed);
  }

  /** Whether {@code --verbose} was given to the command or any of its subcommands. */
  private static boolean verbose(CommandLine.ParseResult parsed) {
    for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
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
    CommandLine cli = new CommandLine(new LibkvCli());
    giveVersion(cli, new BuildVersion());
    return cli;
  }

  /** Every command answers {@code --version} with the build's version, not only the top one. */
  private static void giveVersion(CommandLine command, CommandLine.IVersionProvider version) {
    if (command.getCommandSpec().versionProvider() == null
        && command.getCommandSpec().version().length == 0) {
      command.getCommandSpec().versionProvider(version);
    }
    for (CommandLine sub : command.getSubcommands().values()) {
      giveVersion(sub, version);
    }
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /**
   * The version the build wrote into {@code io/libkv/cli/version.properties} (Maven resource
   * filtering of {@code src/main/resources-filtered}).
   */
  static final class BuildVersion implements CommandLine.IVersionProvider {
    static final String RESOURCE = "/io/libkv/cli/version.properties";

    @Override
    public String[] getVersion() {
      return new String[] {"libkv-java " + version()};
    }

    /**
     * Returns the project version this command line was built as.
     *
     * @throws IllegalStateException if the build did not write the resource
     */
    static String version() {
      Properties p = new Properties();
      try (InputStream in = LibkvCli.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException(RESOURCE + " is missing from the class path");
        }
        p.load(in);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + RESOURCE, e);
      }
      String v = p.getProperty("version");
      if (v == null || v.isBlank() || v.startsWith("${")) {
        throw new IllegalStateException(RESOURCE + " holds no version the build filled in: " + v);
      }
      return v;
    }
  }
}
