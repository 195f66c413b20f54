package io.libkv.cli;

import io.libkv.raft.Permission;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ./libkv access list|grant|revoke}: an embedded cluster's access rules (who may read, write
 * and administer which keys, by the name in each client certificate; enforced with TLS only).
 */
@Command(
    name = "access",
    mixinStandardHelpOptions = true,
    description = {
      "List, grant and revoke the access rules of an embedded cluster with TLS: a client"
          + " certificate, named by its subject's CN, may do only what a rule grants it once"
          + " there is a rule. Permissions: read, write, admin (admin with the prefix \"\").",
      "Connection options (--endpoints, --tls-*, --timeout, --json) follow the subcommand."
    },
    footerHeading = "%nExit status:%n",
    footer = {
      "  0  done",
      "  1  the change did not complete",
      "  2  usage: an unknown permission, admin with a prefix",
      "  5  the cluster did not answer within --timeout",
      "  6  this certificate has no admin permission"
    })
final class AccessCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Print the rules in force (none: permissions are off).")
  int list(@Mixin ClusterOptions cluster) {
    return cluster.run(
        spec.subcommands().get("list"),
        (admin, out) -> {
          out.rules(admin.accessRules());
          return KvStatus.OK;
        });
  }

  @Command(
      name = "grant",
      mixinStandardHelpOptions = true,
      description =
          "Let IDENTITY use PERMISSIONS on every key starting with PREFIX (\"\" for all keys);"
              + " the first rule turns permissions on, so grant an administrator admin first.")
  int grant(
      @Parameters(index = "0", paramLabel = "IDENTITY", description = "A certificate's CN.")
          String identity,
      @Parameters(index = "1", paramLabel = "PREFIX", description = "Key prefix, e.g. app/.")
          String prefix,
      @Parameters(
              index = "2",
              paramLabel = "PERMISSIONS",
              description = "Comma-separated: read, write, admin.")
          String permissions,
      @Mixin ClusterOptions cluster) {
    return change("grant", identity, prefix, permissions, cluster);
  }

  @Command(
      name = "revoke",
      mixinStandardHelpOptions = true,
      description =
          "Take PERMISSIONS from IDENTITY's rule on exactly PREFIX; removing the last rule turns"
              + " permissions off.")
  int revoke(
      @Parameters(index = "0", paramLabel = "IDENTITY", description = "A certificate's CN.")
          String identity,
      @Parameters(index = "1", paramLabel = "PREFIX", description = "The rule's key prefix.")
          String prefix,
      @Parameters(
              index = "2",
              paramLabel = "PERMISSIONS",
              description = "Comma-separated: read, write, admin.")
          String permissions,
      @Mixin ClusterOptions cluster) {
    return change("revoke", identity, prefix, permissions, cluster);
  }

  private int change(
      String sub, String identity, String prefix, String permissions, ClusterOptions cluster) {
    Set<Permission> ps = parse(permissions, sub);
    return cluster.run(
        spec.subcommands().get(sub),
        (admin, out) -> {
          if (sub.equals("grant")) {
            admin.grant(identity, prefix, ps);
          } else {
            admin.revoke(identity, prefix, ps);
          }
          out.done(sub, identity);
          return KvStatus.OK;
        });
  }

  private Set<Permission> parse(String permissions, String sub) {
    EnumSet<Permission> out = EnumSet.noneOf(Permission.class);
    for (String p : List.of(permissions.split(","))) {
      String name = p.trim().toUpperCase(Locale.ROOT);
      try {
        out.add(Permission.valueOf(name));
      } catch (IllegalArgumentException e) {
        throw new ParameterException(
            spec.subcommands().get(sub),
            "unknown permission '" + p.trim() + "': read, write or admin");
      }
    }
    return out;
  }
}
