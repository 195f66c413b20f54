package io.libkv.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ./libkv leader transfer ID}: moves an embedded cluster's leadership. */
@Command(
    name = "leader",
    mixinStandardHelpOptions = true,
    description = {
      "Move the leadership of an embedded cluster.",
      "Connection options (--endpoints, --tls-*, --timeout, --json) follow the subcommand."
    },
    footerHeading = "%nExit status:%n",
    footer = {
      "  0  the member leads",
      "  1  the transfer did not complete (the member is down or behind)",
      "  2  usage: not a voting member",
      "  5  the cluster did not answer within --timeout"
    })
final class LeaderCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "transfer",
      mixinStandardHelpOptions = true,
      description = "Make the voting member ID the leader; returns once it leads.")
  int transfer(
      @Parameters(paramLabel = "ID", description = "The member to lead.") String id,
      @Mixin ClusterOptions cluster) {
    return cluster.run(
        spec.subcommands().get("transfer"),
        (admin, out) -> {
          admin.transferLeadership(id);
          out.done("transfer-leader", id);
          return KvStatus.OK;
        });
  }
}
