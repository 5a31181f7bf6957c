// `faultline reap`: cleans what dead runs left behind (their children, their unhealed faults,
// their run directories), for when both a harness and its watchdog were killed. Live runs are left
// alone. Prints one line per dead run; exits 1 if a run could not be cleaned completely (a heal
// action failed: the run is kept, and the next reap retries it).
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "harness/cli/commands.h"
#include "harness/core/reaper.h"

namespace faultline {
namespace {

struct ReapOptions {
  bool dry_run = false;
  std::string root;
};

void run_reap(const ReapOptions& options) {
  const std::filesystem::path root =
      options.root.empty() ? default_runs_root() : std::filesystem::path(options.root);
  const auto runs = reap_dead_runs(root, options.dry_run);
  if (runs.empty()) {
    std::printf("nothing to reap in %s\n", root.c_str());
    return;
  }
  for (const auto& run : runs) {
    std::printf("%s\n", describe(run).c_str());
    if (!run.dry_run && !run.removed) cli::set_exit_code(1);
  }
}

void add_reap_command(CLI::App& app) {
  auto options = std::make_shared<ReapOptions>();
  auto* cmd = app.add_subcommand(
      "reap", "Clean up after dead runs: stop their children, heal their faults");
  cmd->add_flag("--dry-run", options->dry_run, "say what would be done, change nothing");
  cmd->add_option("--root", options->root,
                  "the directory holding the run directories (default: $TMPDIR/faultline)");
  cmd->callback([options] { run_reap(*options); });
}

}  // namespace

FAULTLINE_COMMAND(90, add_reap_command);

}  // namespace faultline
