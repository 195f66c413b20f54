package io.libkv.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ./libkv member list|add|remove|promote}: an embedded cluster's members, through {@link
 * io.libkv.raft.ClusterAdmin}.
 */
@Command(
    name = "member",
    mixinStandardHelpOptions = true,
    description = {
      "List and change the members of an embedded cluster.",
      "A member to add must already run, started empty with ./libkv node --join.",
      "Connection options (--endpoints, --tls-*, --timeout, --json) follow the subcommand."
    },
    footerHeading = "%nExit status:%n",
    footer = {
      "  0  success",
      "  1  the change was refused (the message says why)",
      "  2  usage: bad option, endpoint or member id",
      "  5  the cluster (or the new member) did not answer within --timeout"
    })
final class MemberCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {
        "List every member: id, address, role (leader, follower, candidate, learner; stopped when"
            + " it does not answer), term, commit and applied index, free disk."
      })
  int list(@Mixin ClusterOptions cluster) {
    return cluster.run(
        spec.subcommands().get("list"),
        (admin, out) -> {
          out.members(admin.members());
          return KvStatus.OK;
        });
  }

  @Command(
      name = "add",
      mixinStandardHelpOptions = true,
      description = {
        "Add a running member (started with ./libkv node --join) as a voting member, or with"
            + " --learner as a learner that replicates and serves reads but does not vote."
      })
  int add(
      @Parameters(paramLabel = "ID=HOST:PORT", description = "The new member.") String endpoint,
      @Option(names = "--learner", description = "Add it as a learner (promote it later).")
          boolean learner,
      @Mixin ClusterOptions cluster) {
    return cluster.run(
        spec.subcommands().get("add"),
        (admin, out) -> {
          if (learner) {
            admin.addLearner(endpoint);
          } else {
            admin.addMember(endpoint);
          }
          out.done(learner ? "add-learner" : "add", endpoint);
          return KvStatus.OK;
        });
  }

  @Command(
      name = "remove",
      mixinStandardHelpOptions = true,
      description = {
        "Remove a voting member or a learner; stop its process afterwards. Refused for the last"
            + " voting member."
      })
  int remove(
      @Parameters(paramLabel = "ID", description = "The member's id.") String id,
      @Mixin ClusterOptions cluster) {
    return cluster.run(
        spec.subcommands().get("remove"),
        (admin, out) -> {
          admin.removeMember(id);
          out.done("remove", id);
          return KvStatus.OK;
        });
  }

  @Command(
      name = "promote",
      mixinStandardHelpOptions = true,
      description = "Make a learner a voting member.")
  int promote(
      @Parameters(paramLabel = "ID", description = "The learner's id.") String id,
      @Mixin ClusterOptions cluster) {
    return cluster.run(
        spec.subcommands().get("promote"),
        (admin, out) -> {
          admin.promote(id);
          out.done("promote", id);
          return KvStatus.OK;
        });
  }
}
