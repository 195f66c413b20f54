package io.libkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * Renders the usage help of {@code ./libkv} and every command under it (demo, node, kv and its
 * subcommands, bench and its subcommands, jepsen) and fails on any warning picocli prints while
 * doing so.
 *
 * <p>Picocli treats descriptions as {@link String#format} patterns: a bare {@code %} (as in "90%
 * get") throws inside picocli, which catches the exception, prints "[picocli WARN] Could not format
 * ..." through its tracer and shows the raw text. The tracer writes to the {@code System.err} of
 * the moment picocli was loaded, so replacing {@code System.err} here would not see it; the test
 * points the tracer's own stream at a buffer instead.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UsageHelpTest {

  @Test
  void everyCommandRendersItsHelpWithoutAWarning() throws Exception {
    Map<String, String> usage = new TreeMap<>();
    String warnings = picocliWarningsDuring(() -> render(LibkvCli.newCommandLine(), usage));

    assertEquals(
        "", warnings, "picocli warned while rendering usage help; write a literal % as %%");
    assertTrue(
        usage
            .keySet()
            .containsAll(
                List.of(
                    "libkv",
                    "libkv demo",
                    "libkv node",
                    "libkv kv",
                    "libkv kv get",
                    "libkv kv put",
                    "libkv kv del",
                    "libkv kv ls",
                    "libkv kv cas",
                    "libkv kv watch",
                    "libkv kv lock",
                    "libkv bench",
                    "libkv bench jmh",
                    "libkv bench scale",
                    "libkv jepsen")),
        "rendered: " + usage.keySet());
    usage.forEach((name, text) -> assertFalse(text.isBlank(), name + " has no usage help"));
    assertTrue(
        usage.get("libkv bench").contains("mixed (90% get)"),
        "an escaped %% shows as one %: " + usage.get("libkv bench"));
  }

  private static void render(CommandLine command, Map<String, String> usage) {
    usage.put(
        command.getCommandSpec().qualifiedName(),
        command.getUsageMessage(CommandLine.Help.Ansi.OFF));
    for (CommandLine sub : command.getSubcommands().values()) {
      render(sub, usage);
    }
  }

  /** Runs {@code action} with picocli's tracer writing into a buffer; returns what it wrote. */
  private static String picocliWarningsDuring(Runnable action) throws ReflectiveOperationException {
    CommandLine.Tracer tracer = CommandLine.tracer();
    // Picocli has no setter for the tracer's stream; its field is the only way to capture it.
    Field stream = CommandLine.Tracer.class.getDeclaredField("stream");
    stream.setAccessible(true);
    Object previousStream = stream.get(tracer);
    CommandLine.TraceLevel previousLevel = tracer.getLevel();
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    stream.set(tracer, new PrintStream(buffer, true, StandardCharsets.UTF_8));
    tracer.setLevel(CommandLine.TraceLevel.WARN);
    try {
      action.run();
    } finally {
      stream.set(tracer, previousStream);
      tracer.setLevel(previousLevel);
    }
    return buffer.toString(StandardCharsets.UTF_8);
  }
}
