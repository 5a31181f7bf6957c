// The subcommands of the `faultline` CLI. Each adds itself to the CLI11 app and runs from its
// callback; a callback reports usage and input problems by throwing faultline::UsageError or
// faultline::InputError (the CLI prints one line and exits 2) and sets the exit code through
// `set_exit_code` otherwise.
#pragma once

#include <CLI/CLI.hpp>

namespace faultline::cli {

// Options every subcommand sees (parsed before the subcommand runs).
struct GlobalOptions {
  std::string log_format = "human";
  std::string log_level = "info";
};

void set_exit_code(int code);
int exit_code();

}  // namespace faultline::cli

namespace faultline {
void add_report_command(CLI::App& app);
void add_reap_command(CLI::App& app);
}  // namespace faultline
