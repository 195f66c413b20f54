package io.libkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import picocli.CommandLine;

/**
 * Runs {@code ./libkv} commands in this JVM, as {@code main} would but with standard output and
 * error captured, and standard input given.
 */
final class KvCli {
  private static final ObjectMapper JSON = new ObjectMapper();

  private KvCli() {}

  /** What a finished command left: its status and what it printed. */
  record Result(int status, String out, String err) {
    /** Each line of standard output read as one JSON object. */
    List<JsonNode> json() {
      List<JsonNode> nodes = new ArrayList<>();
      for (String line : out.split("\\R")) {
        if (!line.isEmpty()) {
          try {
            nodes.add(JSON.readTree(line));
          } catch (IOException e) {
            throw new UncheckedIOException("not one JSON object per line:\n" + out, e);
          }
        }
      }
      return nodes;
    }

    /** Fails unless the command exited with {@code expected}; returns this for chaining. */
    Result expect(int expected) {
      assertEquals(expected, status, () -> "status; out:\n" + out + "\nerr:\n" + err);
      return this;
    }
  }

  /** Runs {@code ./libkv ARGS...} and returns when it has exited. */
  static Result run(String... args) {
    return run(new byte[0], args);
  }

  /** Runs {@code ./libkv ARGS...} with {@code stdin} as standard input. */
  static Result run(byte[] stdin, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = commandLine(stdin, out, err).execute(args);
    return new Result(status, out.toString(), err.toString());
  }

  /** Starts {@code ./libkv ARGS...} on a thread of its own, for commands that run until stopped. */
  static Running start(String... args) {
    return new Running(args);
  }

  /** Concatenates argument lists, e.g. a command and a backend's connection options. */
  static String[] args(List<String> first, String... rest) {
    List<String> all = new ArrayList<>(first);
    all.addAll(Arrays.asList(rest));
    return all.toArray(String[]::new);
  }

  /** A 127.0.0.1 port that nothing listens on (it was free a moment ago). */
  static int closedPort() {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits until {@code condition} holds, checking every 20 ms; fails after {@code within}. */
  static void await(String what, Duration within, BooleanSupplier condition) {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        fail("not within " + within + ": " + what);
      }
      try {
        TimeUnit.MILLISECONDS.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted while waiting for " + what);
      }
    }
  }

  private static CommandLine commandLine(byte[] stdin, StringWriter out, StringWriter err) {
    CommandLine cli = LibkvCli.newCommandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    KvCommand kv = cli.getSubcommands().get("kv").getCommand();
    kv.stdin = new ByteArrayInputStream(stdin);
    return cli;
  }

  /** A command running on its own thread; its output can be read while it runs. */
  static final class Running {
    // StringWriter is backed by a StringBuffer, so reading it while the command writes is safe.
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private final CompletableFuture<Integer> status = new CompletableFuture<>();
    private final Thread thread;

    private Running(String... args) {
      CommandLine cli = commandLine(new byte[0], out, err);
      thread =
          new Thread(
              () -> {
                try {
                  status.complete(cli.execute(args));
                } catch (Throwable t) {
                  status.completeExceptionally(t);
                }
              },
              "kv-cli " + String.join(" ", args));
      thread.setDaemon(true);
      thread.start();
    }

    String out() {
      return out.toString();
    }

    /** Waits until standard output satisfies {@code condition}. */
    Running awaitOut(String what, Duration within, Predicate<String> condition) {
      await(
          what + "; out so far:\n" + out() + "\nerr:\n" + err,
          within,
          () -> {
            boolean exited = status.isDone();
            if (condition.test(out())) {
              return true;
            }
            if (exited) {
              fail("exited before " + what + "; out:\n" + out() + "\nerr:\n" + err);
            }
            return false;
          });
      return this;
    }

    /** Interrupts the command's thread, as Ctrl-C stops a watch. */
    Running interrupt() {
      thread.interrupt();
      return this;
    }

    /** Waits for the command to exit and returns what it left. */
    Result finish(Duration within) {
      try {
        int s = status.get(within.toMillis(), TimeUnit.MILLISECONDS);
        return new Result(s, out.toString(), err.toString());
      } catch (TimeoutException e) {
        thread.interrupt();
        return fail("still running after " + within + "; out:\n" + out + "\nerr:\n" + err);
      } catch (ExecutionException e) {
        return fail("the command threw", e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return fail("interrupted");
      }
    }
  }
}
