package io.libkv.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What the numbers were measured on: cores, CPU, memory, JVM, the data directory's disk, load. */
final class MachineInfo {
  private MachineInfo() {}

  static Map<String, String> describe(Path dataDir) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
    m.put("cpu", cpuModel());
    m.put("memory", memTotal());
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    m.put(
        "java",
        System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    m.put("dataDisk", disk(dataDir));
    m.put("loadAverageAtStart", loadAverage());
    return m;
  }

  static String loadAverage() {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    double l = os.getSystemLoadAverage();
    return l < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f", l);
  }

  private static String cpuModel() {
    for (String line : readLines(Path.of("/proc/cpuinfo"))) {
      if (line.startsWith("model name")) {
        return line.substring(line.indexOf(':') + 1).trim();
      }
    }
    return System.getProperty("os.arch");
  }

  private static String memTotal() {
    for (String line : readLines(Path.of("/proc/meminfo"))) {
      if (line.startsWith("MemTotal:")) {
        String[] parts = line.substring(9).trim().split("\\s+");
        try {
          return String.format(Locale.ROOT, "%.1f GiB", Long.parseLong(parts[0]) / 1048576.0);
        } catch (NumberFormatException e) {
          return line;
        }
      }
    }
    return "unknown";
  }

  private static String disk(Path dir) {
    try {
      Files.createDirectories(dir);
      FileStore fs = Files.getFileStore(dir);
      String rotational = "";
      String name = fs.name();
      if (name.startsWith("/dev/")) {
        String dev = name.substring(5).replaceAll("\\d+$", "");
        List<String> rot = readLines(Path.of("/sys/block", dev, "queue", "rotational"));
        if (!rot.isEmpty()) {
          rotational = "1".equals(rot.get(0).trim()) ? ", rotational" : ", non-rotational";
        }
      }
      return name + " (" + fs.type() + rotational + ")";
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  private static List<String> readLines(Path p) {
    try {
      return Files.readAllLines(p);
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }
}
