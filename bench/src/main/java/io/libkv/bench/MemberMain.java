package io.libkv.bench;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.Store;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Runs one member of an embedded cluster in its own process for the harness: {@code MemberMain
 * <nodeId> <dataDir> <id=host:port,...>}. It opens the member through the public API ({@code
 * LibKV.newStore(EMBEDDED, endpoints, nodeId + dataDir)}), prints {@code READY}, and runs until its
 * standard input closes (the harness closing the pipe, or dying), then closes the member.
 */
final class MemberMain {
  private MemberMain() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 3) {
      System.err.println("usage: MemberMain <nodeId> <dataDir> <id=host:port,...>");
      System.exit(2);
    }
    List<String> peers = Arrays.asList(args[2].split(","));
    Store member =
        LibKV.newStore(
            Backend.EMBEDDED,
            peers,
            Config.builder().nodeId(args[0]).dataDir(Path.of(args[1])).build());
    System.out.println("READY " + args[0]);
    System.out.flush();
    try {
      while (System.in.read() >= 0) {
        // wait for end of input
      }
    } finally {
      member.close();
    }
  }
}
