package io.libkv.bench;

import io.libkv.raft.LoopbackPorts;
import java.util.List;

/** Loopback ports for the servers a run starts. */
final class Net {
  static final String HOST = "127.0.0.1";

  private Net() {}

  /** Returns {@code n} distinct loopback ports, as {@link LoopbackPorts#reserve(String, int)}. */
  static List<Integer> freePorts(int n) {
    return LoopbackPorts.reserve(HOST, n);
  }
}
