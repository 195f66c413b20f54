package io.libkv.raft;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Encodes what a member answers to a status query ({@link Wire#status()}): its {@link MemberStatus}
 * and the configuration it knows (voting members and learners, as endpoints), so that a {@link
 * ClusterAdmin} learns the cluster's members from whichever member leads.
 *
 * <pre>
 * report : [id][endpoint][role: byte][term: long][leaderId or ""][commit: long][applied: long]
 *          [logBytes: long][snapshotIndex: long][snapshotBytes: long][diskFree: long]
 *          [failure or ""][confIndex: long][voters: int]{[endpoint]}*[learners: int]{[endpoint]}*
 * string : [length: int][UTF-8]
 * </pre>
 */
final class MemberReportCodec {
  private MemberReportCodec() {}

  /**
   * One member's answer: its status, and the configuration it knows ({@code confIndex} is the log
   * index of that configuration's entry, {@code -1} if it knows none).
   */
  record Report(MemberStatus status, long confIndex, List<String> voters, List<String> learners) {}

  static byte[] encode(Report r) {
    MemberStatus s = r.status();
    List<byte[]> strings = new ArrayList<>();
    strings.add(utf8(s.id()));
    strings.add(utf8(s.endpoint()));
    strings.add(utf8(s.leaderId().orElse("")));
    strings.add(utf8(s.failure().orElse("")));
    r.voters().forEach(v -> strings.add(utf8(v)));
    r.learners().forEach(l -> strings.add(utf8(l)));
    int size = 1 + 8 * 8 + 4 * 2;
    for (byte[] b : strings) {
      size += 4 + b.length;
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    put(b, strings.get(0));
    put(b, strings.get(1));
    b.put((byte) s.role().ordinal());
    b.putLong(s.term());
    put(b, strings.get(2));
    b.putLong(s.commitIndex())
        .putLong(s.appliedIndex())
        .putLong(s.logBytes())
        .putLong(s.snapshotIndex())
        .putLong(s.snapshotBytes())
        .putLong(s.diskFreeBytes());
    put(b, strings.get(3));
    b.putLong(r.confIndex());
    b.putInt(r.voters().size());
    int i = 4;
    for (int k = 0; k < r.voters().size(); k++) {
      put(b, strings.get(i++));
    }
    b.putInt(r.learners().size());
    for (int k = 0; k < r.learners().size(); k++) {
      put(b, strings.get(i++));
    }
    return b.array();
  }

  /**
   * Decodes a report.
   *
   * @throws IllegalStateException if the bytes are not a report
   */
  static Report decode(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    try {
      String id = string(b);
      String endpoint = string(b);
      int role = b.get();
      MemberStatus.Role[] roles = MemberStatus.Role.values();
      if (role < 0 || role >= roles.length) {
        throw new IllegalStateException("a member status names unknown role " + role);
      }
      long term = b.getLong();
      String leader = string(b);
      MemberStatus status =
          new MemberStatus(
              id,
              endpoint,
              roles[role],
              term,
              leader.isEmpty() ? Optional.empty() : Optional.of(leader),
              b.getLong(),
              b.getLong(),
              b.getLong(),
              b.getLong(),
              b.getLong(),
              b.getLong(),
              optional(string(b)));
      long confIndex = b.getLong();
      List<String> voters = strings(b);
      List<String> learners = strings(b);
      if (b.hasRemaining()) {
        throw new IllegalStateException(
            "a member status has " + b.remaining() + " bytes after its end");
      }
      return new Report(status, confIndex, voters, learners);
    } catch (BufferUnderflowException | NegativeArraySizeException e) {
      throw new IllegalStateException(
          "a member status of " + bytes.length + " bytes is truncated", e);
    }
  }

  private static Optional<String> optional(String s) {
    return s.isEmpty() ? Optional.empty() : Optional.of(s);
  }

  private static List<String> strings(ByteBuffer b) {
    int n = b.getInt();
    if (n < 0 || n > b.remaining() / 4) {
      throw new IllegalStateException("a member status claims " + n + " members");
    }
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(string(b));
    }
    return List.copyOf(out);
  }

  private static String string(ByteBuffer b) {
    byte[] s = new byte[b.getInt()];
    b.get(s);
    return new String(s, StandardCharsets.UTF_8);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void put(ByteBuffer b, byte[] s) {
    b.putInt(s.length).put(s);
  }
}
