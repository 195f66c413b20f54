package io.libkv.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/** Loopback ports for the servers a run starts. */
final class Net {
  static final String HOST = "127.0.0.1";

  private Net() {}

  /**
   * Returns {@code n} distinct ports that were free on 127.0.0.1 a moment ago (all held open
   * together while choosing, so they differ).
   */
  static List<Integer> freePorts(int n) {
    List<ServerSocket> held = new ArrayList<>();
    try {
      List<Integer> ports = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST));
        s.setReuseAddress(true);
        held.add(s);
        ports.add(s.getLocalPort());
      }
      return ports;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find free loopback ports", e);
    } finally {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException e) {
          // the port is released either way
        }
      }
    }
  }
}
