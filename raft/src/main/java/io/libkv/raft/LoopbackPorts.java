package io.libkv.raft;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for servers that a test, a benchmark or a fault-injection run starts on a loopback address
 * and must name before they bind (a Raft member's peers are configured with its port).
 *
 * <p>Asking the kernel for a free port ({@code new ServerSocket(0)}) and closing it hands out a
 * port from the ephemeral range, the same range the kernel draws the local port of every outgoing
 * connection from: between the choice and the server's bind, a client connection elsewhere in the
 * machine may take it, and the next ask may return the same port again. Ports handed out here come
 * from below the ephemeral range (on Linux, {@code /proc/sys/net/ipv4/ip_local_port_range}), which
 * outgoing connections never use; each was bindable when chosen, all of one call were held open
 * together, and none is handed out twice by one JVM. Where the ephemeral range cannot be read, it
 * is taken to start at 32768 (Linux's default); where it leaves fewer than 1,000 ports below it,
 * the kernel's choice is used, held open together so one call's ports differ.
 */
public final class LoopbackPorts {
  private static final int LOWEST = 10_000;
  private static final int FALLBACK_EPHEMERAL_LOW = 32_768;
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  private LoopbackPorts() {}

  /**
   * Returns {@code n} distinct ports that were free on {@code host} when chosen and that no earlier
   * call in this JVM returned.
   *
   * @param host a loopback address, such as {@code 127.0.0.1}
   * @param n how many ports
   * @throws IllegalArgumentException if {@code host} is not a loopback address, or {@code n < 1}
   * @throws UncheckedIOException if not enough free ports are found
   */
  public static List<Integer> reserve(String host, int n) {
    if (n < 1) {
      throw new IllegalArgumentException("n must be at least 1, was " + n);
    }
    InetAddress address;
    try {
      address = InetAddress.getByName(host);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot resolve " + host, e);
    }
    if (!address.isLoopbackAddress()) {
      throw new IllegalArgumentException(host + " is not a loopback address");
    }
    int top = ephemeralLow() - 1;
    List<ServerSocket> held = new ArrayList<>(n);
    try {
      List<Integer> ports = new ArrayList<>(n);
      if (top - LOWEST < 1_000) {
        for (int i = 0; i < n; i++) {
          ServerSocket s = bind(address, 0);
          held.add(s);
          ports.add(s.getLocalPort());
        }
        return ports;
      }
      int span = top - LOWEST + 1;
      if (HANDED_OUT.size() > span / 2) {
        HANDED_OUT.clear(); // long-lived JVM: servers of earlier calls are long gone
      }
      int tries = 0;
      while (ports.size() < n) {
        if (++tries > span) {
          throw new UncheckedIOException(
              new IOException("no free port between " + LOWEST + " and " + top + " on " + host));
        }
        int candidate = LOWEST + ThreadLocalRandom.current().nextInt(span);
        if (!HANDED_OUT.add(candidate)) {
          continue;
        }
        try {
          held.add(bind(address, candidate));
          ports.add(candidate);
        } catch (IOException inUse) {
          // taken: try another
        }
      }
      return ports;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find free ports on " + host, e);
    } finally {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException e) {
          // released either way
        }
      }
    }
  }

  /** Returns one port, as {@link #reserve(String, int)} with {@code n = 1}. */
  public static int reserve(String host) {
    return reserve(host, 1).get(0);
  }

  private static ServerSocket bind(InetAddress address, int port) throws IOException {
    ServerSocket s = new ServerSocket();
    try {
      s.setReuseAddress(true); // as the servers bind: a port in TIME_WAIT still counts as free
      s.bind(new InetSocketAddress(address, port), 1);
      return s;
    } catch (IOException e) {
      s.close();
      throw e;
    }
  }

  private static int ephemeralLow() {
    Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    try {
      // readString would stop short here: procfs files report a size of 0
      String[] parts = Files.readAllLines(range).get(0).trim().split("\\s+");
      return Integer.parseInt(parts[0]);
    } catch (IOException | RuntimeException e) {
      return FALLBACK_EPHEMERAL_LOW;
    }
  }
}
