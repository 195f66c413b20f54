package io.libkv.bench;

import io.libkv.spi.JvmAccess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the JMH benchmarks of {@code io.libkv.bench.jmh} with the JVM flags lmdbjava and Agrona need
 * passed to every fork, writes {@code jmh.json} (JMH's own format) and {@code jmh.md} (a table and
 * the store-vs-raw ratios) to the output directory.
 */
final class JmhMain {
  static final String PACKAGE = "io.libkv.bench.jmh.";

  private JmhMain() {}

  static int run(
      String include,
      int forks,
      int warmupIterations,
      int iterations,
      Duration time,
      Path out,
      boolean list) {
    try {
      Files.createDirectories(out);
      Path json = out.resolve("jmh.json");
      String regex = include.startsWith(PACKAGE) ? include : PACKAGE + ".*(?:" + include + ")";
      ChainedOptionsBuilder ob =
          new OptionsBuilder()
              .include(regex)
              .forks(forks)
              .warmupIterations(warmupIterations)
              .warmupTime(TimeValue.milliseconds(time.toMillis()))
              .measurementIterations(iterations)
              .measurementTime(TimeValue.milliseconds(time.toMillis()))
              .jvmArgsAppend(JvmAccess.REQUIRED_FLAGS.split(" "))
              .timeUnit(TimeUnit.SECONDS)
              .resultFormat(ResultFormatType.JSON)
              .result(json.toString());
      Runner runner = new Runner(ob.build());
      if (list) {
        runner.list();
        return 0;
      }
      Collection<RunResult> results = runner.run();
      String md = JmhReport.markdown(results);
      Files.writeString(out.resolve("jmh.md"), md);
      System.out.println();
      System.out.print(md);
      System.out.println("JMH results written to " + json.toAbsolutePath());
      return 0;
    } catch (RunnerException | java.io.IOException e) {
      System.err.println("bench jmh failed: " + e);
      return 1;
    }
  }
}
