package io.libkv.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A server started as a child process, its output sent to a log file. Stopped by {@link #close()},
 * or by a shutdown hook if the JVM exits first.
 */
final class ChildProcess implements AutoCloseable {
  private final String name;
  private final Process process;
  private final Path log;
  private final Thread hook;

  private ChildProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.hook = new Thread(process::destroyForcibly, "bench-stop-" + name);
    Runtime.getRuntime().addShutdownHook(hook);
  }

  static ChildProcess start(String name, List<String> command, Path workDir, Path log) {
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .directory(workDir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      return new ChildProcess(name, pb.start(), log);
    } catch (IOException e) {
      throw new BenchException("cannot start " + name + ": " + String.join(" ", command), e);
    }
  }

  /** The java launcher of this JVM. */
  static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * A {@code java} command line running {@code mainClass} on this JVM's class path, made absolute
   * (children run in their own working directory, so {@code java -jar cli/target/libkv-cli.jar}
   * would otherwise leave them without classes).
   */
  static List<String> javaCommand(String heap, List<String> jvmFlags, String mainClass) {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBinary());
    cmd.add("-Xmx" + heap);
    cmd.addAll(jvmFlags);
    cmd.add("-cp");
    cmd.add(absoluteClassPath(System.getProperty("java.class.path")));
    cmd.add(mainClass);
    return cmd;
  }

  static String absoluteClassPath(String classPath) {
    List<String> out = new ArrayList<>();
    for (String entry : classPath.split(java.io.File.pathSeparator, -1)) {
      out.add(entry.isEmpty() ? entry : Path.of(entry).toAbsolutePath().toString());
    }
    return String.join(java.io.File.pathSeparator, out);
  }

  boolean isAlive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  /** The last lines of the log, for error messages. */
  String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      int from = Math.max(0, lines.size() - 15);
      return String.join("\n", lines.subList(from, lines.size()));
    } catch (IOException | RuntimeException e) {
      return "(no log at " + log + ")";
    }
  }

  /** Throws naming the process and its log if it has exited. */
  void checkAlive() {
    if (!process.isAlive()) {
      throw new BenchException(
          name + " exited with status " + process.exitValue() + "; log " + log + ":\n" + tail());
    }
  }

  Process process() {
    return process;
  }

  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook runs anyway
    }
    process.destroy();
    try {
      if (!process.waitFor(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
