package io.libkv.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.libkv.raft.AccessRule;
import io.libkv.raft.MemberStatus;
import io.libkv.raft.Permission;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code ./libkv member}, {@code leader} and {@code status} print: aligned tables for people,
 * or (with {@code --json}) one JSON object per line for scripts. The only place that knows either
 * format.
 *
 * <p>JSON, one object per member: {@code id, endpoint, role, term, leader, commitIndex,
 * appliedIndex, logBytes, snapshotIndex, snapshotBytes, diskFreeBytes, ready, failure} ({@code -1}
 * for what an unreachable member could not tell; {@code leader} and {@code failure} {@code null}
 * when there is none). A change prints {@code {"op", "member"}}.
 */
final class ClusterOutput {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final PrintWriter out;
  private final boolean json;

  ClusterOutput(PrintWriter out, boolean json) {
    this.out = out;
    this.json = json;
  }

  /** {@code member list}: id, address, role, term, commit and applied index, free disk. */
  void members(List<MemberStatus> members) {
    if (json) {
      members.forEach(m -> line(write(object(m))));
      return;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ID", "ADDRESS", "ROLE", "TERM", "COMMIT", "APPLIED", "DISK FREE"});
    for (MemberStatus m : members) {
      rows.add(
          new String[] {
            m.id(),
            address(m),
            role(m),
            number(m.term()),
            number(m.commitIndex()),
            number(m.appliedIndex()),
            bytes(m.diskFreeBytes())
          });
    }
    table(rows);
  }

  /** {@code status}: one table with everything each member reports, then its state. */
  void status(List<MemberStatus> members) {
    if (json) {
      members.forEach(m -> line(write(object(m))));
      return;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {
          "ID",
          "ADDRESS",
          "ROLE",
          "TERM",
          "LEADER",
          "COMMIT",
          "APPLIED",
          "LOG",
          "SNAPSHOT",
          "DISK FREE",
          "STATE"
        });
    for (MemberStatus m : members) {
      rows.add(
          new String[] {
            m.id(),
            address(m),
            role(m),
            number(m.term()),
            m.leaderId().orElse("-"),
            number(m.commitIndex()),
            number(m.appliedIndex()),
            bytes(m.logBytes()),
            m.snapshotIndex() < 0 ? "-" : m.snapshotIndex() + " (" + bytes(m.snapshotBytes()) + ")",
            bytes(m.diskFreeBytes()),
            m.failure().orElse(m.ready() ? "ready" : "catching up")
          });
    }
    table(rows);
  }

  /**
   * {@code access list}: one rule per row (identity, key prefix, permissions); in JSON {@code
   * {"identity", "prefix", "permissions": [...]}} per rule.
   */
  void rules(List<AccessRule> rules) {
    if (json) {
      for (AccessRule r : rules) {
        ObjectNode n =
            JSON.createObjectNode().put("identity", r.identity()).put("prefix", r.keyPrefix());
        com.fasterxml.jackson.databind.node.ArrayNode ps = n.putArray("permissions");
        permissions(r).forEach(ps::add);
        line(write(n));
      }
      return;
    }
    if (rules.isEmpty()) {
      line("no rules: permissions are off");
      return;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"IDENTITY", "PREFIX", "PERMISSIONS"});
    for (AccessRule r : rules) {
      rows.add(
          new String[] {
            r.identity(),
            r.keyPrefix().isEmpty() ? "(all keys)" : r.keyPrefix(),
            String.join(",", permissions(r))
          });
    }
    table(rows);
  }

  private static List<String> permissions(AccessRule r) {
    return java.util.EnumSet.copyOf(r.permissions()).stream().map(Permission::label).toList();
  }

  /** A change that went through: {@code OK}, or what was done. */
  void done(String op, String member) {
    line(json ? write(JSON.createObjectNode().put("op", op).put("member", member)) : "OK");
  }

  private static ObjectNode object(MemberStatus m) {
    ObjectNode n =
        JSON.createObjectNode()
            .put("id", m.id())
            .put("endpoint", m.endpoint())
            .put("role", m.role().name().toLowerCase(Locale.ROOT))
            .put("term", m.term())
            .put("leader", m.leaderId().orElse(null))
            .put("commitIndex", m.commitIndex())
            .put("appliedIndex", m.appliedIndex())
            .put("logBytes", m.logBytes())
            .put("snapshotIndex", m.snapshotIndex())
            .put("snapshotBytes", m.snapshotBytes())
            .put("diskFreeBytes", m.diskFreeBytes())
            .put("ready", m.ready());
    n.put("failure", m.failure().orElse(null));
    return n;
  }

  private static String address(MemberStatus m) {
    return m.endpoint().substring(m.endpoint().indexOf('=') + 1);
  }

  private static String role(MemberStatus m) {
    return m.role().name().toLowerCase(Locale.ROOT);
  }

  private static String number(long n) {
    return n < 0 ? "-" : Long.toString(n);
  }

  /** Bytes for people: {@code 512 B}, {@code 3.2 MiB}, {@code 78.9 GiB}; {@code -} if unknown. */
  static String bytes(long n) {
    if (n < 0) {
      return "-";
    }
    if (n < 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = n;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  private void table(List<String[]> rows) {
    int[] width = new int[rows.get(0).length];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    for (String[] r : rows) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < r.length; i++) {
        b.append(r[i]);
        if (i < r.length - 1) {
          b.append(" ".repeat(width[i] - r[i].length() + 2));
        }
      }
      line(b.toString());
    }
  }

  private static String write(ObjectNode n) {
    try {
      return JSON.writeValueAsString(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }

  private void line(String s) {
    out.println(s);
    out.flush();
  }
}
