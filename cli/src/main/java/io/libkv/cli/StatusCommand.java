package io.libkv.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code ./libkv status}: one table for an embedded cluster. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Print one table for an embedded cluster: each member's id, address, role, term, the leader"
          + " it knows, commit and applied index, log and snapshot size, free disk, and whether it"
          + " is ready (knows a leader and has applied what it knows committed) or why it stopped."
          + " A member that does not answer is listed as stopped.",
    },
    footerHeading = "%nExit status:%n",
    footer = {
      "  0  the table was printed (it says which members are not ready)",
      "  5  no member answered within --timeout"
    })
final class StatusCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClusterOptions cluster;

  @Override
  public Integer call() {
    return cluster.run(
        spec.commandLine(),
        (admin, out) -> {
          out.status(admin.members());
          return KvStatus.OK;
        });
  }
}
