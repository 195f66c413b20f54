package io.libkv.jepsen;

import io.libkv.store.Backend;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * How {@link Cluster} starts its processes: the node JVMs ({@link NodeMain}) on a snapshot of this
 * JVM's class path, with a class data sharing archive once it is written, under libfaketime and
 * crashsim where the run asks for them; and, for the etcd reference, the etcd servers.
 */
final class NodeLauncher implements AutoCloseable {
  private static final List<String> JVM_FLAGS =
      List.of(
          "-Xmx256m",
          "-Xss512k",
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          "-XX:-UsePerfData",
          "--add-opens",
          "java.base/java.nio=ALL-UNNAMED",
          "--add-opens",
          "java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-exports",
          "java.base/jdk.internal.misc=ALL-UNNAMED",
          "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
          "-Dorg.slf4j.simpleLogger.log.io.libkv=info",
          "-Dorg.slf4j.simpleLogger.showDateTime=true");

  private final Backend backend;
  private final Path dir;
  private final Map<String, String> options;
  private final PrintStream log;
  private final Path faketimeLibrary;
  private final Path crashLibrary;
  private final String classpath;

  /** The class data sharing archive of the node JVMs (see {@link #startWarmUp}). */
  private final Path cdsArchive;

  /** The JVM writing {@link #cdsArchive}, or {@code null} before {@link #startWarmUp}. */
  private volatile Process warmUp;

  /**
   * @param faketimeLibrary libfaketime, to run every node under it; {@code null} for the real clock
   * @param crashLibrary the compiled crashsim library, to preload in every node; or {@code null}
   */
  NodeLauncher(
      Backend backend,
      Path dir,
      Map<String, String> options,
      PrintStream log,
      Path faketimeLibrary,
      Path crashLibrary) {
    this.backend = backend;
    this.dir = dir;
    this.options = Map.copyOf(options);
    this.log = log;
    this.faketimeLibrary = faketimeLibrary;
    this.crashLibrary = crashLibrary;
    this.classpath = snapshotClasspath(dir.resolve("classpath"));
    this.cdsArchive = dir.resolve("classpath").resolve("nodes.jsa");
  }

  /** Whether nodes run under libfaketime. */
  boolean processClock() {
    return faketimeLibrary != null;
  }

  /** Whether nodes run with crashsim. */
  boolean crashSim() {
    return crashLibrary != null;
  }

  /** Where Debian's libfaketime is (package {@code libfaketime}, pulled in by {@code faketime}). */
  static Path faketimeLibrary() {
    String override = System.getenv("LIBKV_FAKETIME_LIB");
    List<Path> candidates =
        override != null
            ? List.of(Path.of(override))
            : List.of(
                Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"),
                Path.of("/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1"),
                Path.of("/usr/lib/faketime/libfaketimeMT.so.1"));
    return candidates.stream()
        .filter(Files::isReadable)
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "the process-clock nemesis needs libfaketime (Debian: apt-get install"
                        + " faketime), looked for "
                        + candidates
                        + "; set LIBKV_FAKETIME_LIB to its libfaketimeMT.so.1"));
  }

  /**
   * Copies the jars of this JVM's class path (and those a jar's manifest names) into {@code
   * target}, and returns the class path of the copies: node processes started or restarted during
   * the run must load the code the run started with, even if a build installs new jars into the
   * local Maven repository meanwhile (a restarted node would mix versions, and a running one fails
   * to load a class lazily). Directories (target/classes) are used as they are.
   */
  static String snapshotClasspath(Path target) {
    java.util.Set<Path> entries = new java.util.LinkedHashSet<>();
    for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      if (e.isEmpty()) {
        continue;
      }
      Path p = Path.of(e).toAbsolutePath();
      entries.add(p);
      if (Files.isRegularFile(p) && p.toString().endsWith(".jar")) {
        try (java.util.jar.JarFile jar = new java.util.jar.JarFile(p.toFile())) {
          java.util.jar.Manifest m = jar.getManifest();
          String cp =
              m == null
                  ? null
                  : m.getMainAttributes().getValue(java.util.jar.Attributes.Name.CLASS_PATH);
          if (cp != null) {
            for (String rel : cp.trim().split("\\s+")) {
              Path q = p.getParent().resolve(rel).normalize();
              if (Files.exists(q)) {
                entries.add(q);
              }
            }
          }
        } catch (IOException ex) {
          throw new UncheckedIOException("cannot read the jar " + p, ex);
        }
      }
    }
    try {
      Files.createDirectories(target);
      List<String> out = new ArrayList<>();
      int i = 0;
      for (Path p : entries) {
        if (Files.isRegularFile(p)) {
          Path copy = target.resolve((i++) + "-" + p.getFileName());
          Files.copy(p, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          out.add(copy.toString());
        } else if (Files.isDirectory(p)) {
          // As a jar: class data sharing accepts only jars (and empty directories) on the path.
          Path copy = target.resolve((i++) + "-" + p.getFileName() + ".jar");
          jarDirectory(p, copy);
          out.add(copy.toString());
        }
      }
      return String.join(java.io.File.pathSeparator, out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the class path into " + target, e);
    }
  }

  private static void jarDirectory(Path dir, Path jar) throws IOException {
    try (java.util.jar.JarOutputStream out =
            new java.util.jar.JarOutputStream(Files.newOutputStream(jar));
        java.util.stream.Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        String name = dir.relativize(f).toString().replace(java.io.File.separatorChar, '/');
        out.putNextEntry(new java.util.jar.JarEntry(name));
        Files.copy(f, out);
        out.closeEntry();
      }
    }
  }

  /**
   * Starts the JVM that writes the node processes' class data sharing archive: {@code NodeMain
   * --warmup} (a 1-member embedded cluster in one process, through the calls the harness makes)
   * under {@code -XX:ArchiveClassesAtExit}. Node processes launched once it has finished (restarts
   * after kill and crash, members added) map the ~5000 classes of Ratis, gRPC, netty and LMDB from
   * the archive instead of loading and verifying them from jars: about 40% less CPU before a node
   * serves, which is most of a restart on a busy machine. Runs beside the cluster's first start,
   * which waits for it; nodes launched before it is done, or if it fails, start without the
   * archive.
   */
  void startWarmUp() {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(JVM_FLAGS);
    cmd.add("-XX:ArchiveClassesAtExit=" + cdsArchive);
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add(NodeMain.class.getName());
    cmd.add("--warmup");
    cmd.add(dir.resolve("warmup").toString());
    try {
      warmUp =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("warmup.log").toFile())
              .start();
    } catch (IOException e) {
      log.println("class data sharing warm-up did not start (nodes start without it): " + e);
    }
  }

  /** Whether node processes can use the class data sharing archive now. */
  private boolean cdsReady() {
    Process w = warmUp;
    return w != null && !w.isAlive() && w.exitValue() == 0 && Files.isRegularFile(cdsArchive);
  }

  /** Launches node {@code n}'s process with the cluster's {@code endpoints} (joining if asked). */
  void launch(Cluster.Node n, String endpoints, boolean join) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(JVM_FLAGS);
    n.lastStartShared = cdsReady();
    if (n.lastStartShared) {
      cmd.add("-XX:SharedArchiveFile=" + cdsArchive); // -Xshare:auto: ignored if it does not fit
    }
    cmd.add("-Djdk.net.hosts.file=" + n.hostsFile);
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add(NodeMain.class.getName());
    cmd.addAll(List.of("--backend", backend.name(), "--id", n.id, "--data", n.dataDir.toString()));
    cmd.addAll(List.of("--control-port", Integer.toString(n.controlPort)));
    if (backend == Backend.EMBEDDED) {
      cmd.addAll(List.of("--endpoints", endpoints));
      if (join) {
        cmd.addAll(List.of("--join", "true"));
      }
    } else if (backend == Backend.ETCD) {
      cmd.addAll(List.of("--endpoints", "http://127.0.0.1:" + n.raftPort));
    }
    options.forEach((k, v) -> cmd.addAll(List.of("--option", k + "=" + v)));
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd);
      List<String> preload = new ArrayList<>();
      if (crashLibrary != null) {
        // crashsim resolves the directory it watches once, at start: it must exist by then.
        Files.createDirectories(n.dataDir);
        Files.createDirectories(n.undoDir);
        preload.add(crashLibrary.toString()); // after libfaketime: see below
        pb.environment().put("CRASHSIM_DIR", n.dataDir.toString());
        pb.environment().put("CRASHSIM_JOURNAL", n.undoDir.toString());
      }
      if (faketimeLibrary != null) {
        // libfaketime re-reads the offset file once a second; the JVM's clock_gettime calls go
        // through it, so System.nanoTime (Ratis' timers) moves with it. File times stay real.
        writeFaketime(n);
        // First in LD_PRELOAD: with crashsim loaded before it, libfaketime's fstat is called
        // before libfaketime has initialised and the process crashes (SIGSEGV) at start.
        preload.add(0, faketimeLibrary.toString());
        pb.environment().put("FAKETIME_TIMESTAMP_FILE", n.faketimeFile.toString());
        pb.environment().put("FAKETIME_CACHE_DURATION", "1");
        pb.environment().put("NO_FAKE_STAT", "1");
      }
      if (!preload.isEmpty()) {
        pb.environment().put("LD_PRELOAD", String.join(" ", preload));
      }
      n.launchedNs = System.nanoTime();
      n.process =
          pb.redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(n.logFile.toFile()))
              .start();
      n.paused = false;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot launch node " + n.id + ": " + cmd, e);
    }
  }

  /** Waits (at most 60 s) for the warm-up JVM, if one was started; nodes start without it after. */
  void awaitWarmUp() {
    Process w = warmUp;
    if (w != null) {
      try {
        if (!w.waitFor(60, TimeUnit.SECONDS) || !cdsReady()) {
          log.println("class data sharing archive not ready: nodes restart without it");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for the warm-up JVM", e);
      }
    }
  }

  /**
   * Starts node {@code n}'s etcd server (the reference run): client port {@code raftPort}, peer
   * port {@code peerPort}, all on 127.0.0.1. Peer traffic does not pass through the proxies (etcd
   * derives its cluster id from the peer URLs, so every member must see the same ones).
   */
  void launchEtcd(Cluster.Node n, List<Cluster.Node> nodes) {
    String cluster =
        nodes.stream()
            .map(m -> m.id + "=http://127.0.0.1:" + m.peerPort)
            .collect(Collectors.joining(","));
    List<String> cmd =
        List.of(
            "etcd",
            "--name",
            n.id,
            "--data-dir",
            n.dataDir.toString(),
            "--listen-client-urls",
            "http://127.0.0.1:" + n.raftPort,
            "--advertise-client-urls",
            "http://127.0.0.1:" + n.raftPort,
            "--listen-peer-urls",
            "http://127.0.0.1:" + n.peerPort,
            "--initial-advertise-peer-urls",
            "http://127.0.0.1:" + n.peerPort,
            "--initial-cluster",
            cluster,
            "--initial-cluster-state",
            "new",
            "--initial-cluster-token",
            "jepsen-lite");
    try {
      n.server =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(
                  ProcessBuilder.Redirect.appendTo(dir.resolve(n.id + "-etcd.log").toFile()))
              .start();
      n.paused = false;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot launch etcd for " + n.id + ": " + cmd, e);
    }
  }

  /** Writes node {@code n}'s clock offset where libfaketime reads it. */
  static void writeFaketime(Cluster.Node n) {
    Path tmp = n.faketimeFile.resolveSibling(n.faketimeFile.getFileName() + ".tmp");
    try {
      Files.writeString(
          tmp,
          String.format(java.util.Locale.ROOT, "+%.3f%n", n.processClockOffsetS),
          StandardCharsets.UTF_8);
      Files.move(
          tmp,
          n.faketimeFile,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + n.faketimeFile, e);
    }
  }

  /** Stops the warm-up JVM if it still runs. */
  @Override
  public void close() {
    Process w = warmUp;
    if (w != null) {
      w.destroyForcibly();
    }
  }
}
