// The subcommands of the `faultline` CLI.
//
// Each command lives in its own cmd_*.cpp, compiled into the faultline executable (a module may
// add its own with target_sources, e.g. chaos/proxy/cmd_proxy.cpp), and registers itself with
// FAULTLINE_COMMAND. A command's callback reports usage and input problems by throwing
// faultline::UsageError or faultline::InputError (the CLI prints one line and exits 2) and sets
// another exit code through `set_exit_code`. `faultline fake <kind>` commands register with
// FAULTLINE_FAKE_COMMAND under the `fake` command.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace faultline::cli {

// Options every subcommand sees (parsed before the subcommand runs).
struct GlobalOptions {
  std::string log_format = "human";
  std::string log_level = "info";
  std::optional<std::uint64_t> seed;  // --seed; commands resolve it with choose_seed()
};
const GlobalOptions& global_options();
GlobalOptions& mutable_global_options();  // for main() only

void set_exit_code(int code);
int exit_code();

using CommandAdder = void (*)(CLI::App& parent);
// Registers a command; `order` sorts `faultline help` (lower first).
struct CommandRegistration {
  CommandRegistration(int order, CommandAdder add);
};
struct FakeCommandRegistration {
  FakeCommandRegistration(int order, CommandAdder add);
};
void add_registered_commands(CLI::App& app);

// A kind of input file that `faultline check` validates: how to recognise one by its top-level
// keys, and how to load it (throwing InputError with file:line, as a run would) and summarise it
// in a few words. Modules register their own (the chaos engine registers scenario files).
struct FileKind {
  std::string name;  // "stack", "compose", "matrix", "scenario"
  int order = 0;     // detection tries lower orders first
  bool (*detect)(const std::set<std::string>& top_level_keys) = nullptr;
  std::string (*check)(const std::string& path) = nullptr;
};
struct FileKindRegistration {
  explicit FileKindRegistration(FileKind kind);
};
// Every registered kind, in detection order.
std::vector<FileKind> registered_file_kinds();

}  // namespace faultline::cli

#define FAULTLINE_CLI_CONCAT2(a, b) a##b
#define FAULTLINE_CLI_CONCAT(a, b) FAULTLINE_CLI_CONCAT2(a, b)
#define FAULTLINE_COMMAND(order, adder)                                                        \
  static const ::faultline::cli::CommandRegistration FAULTLINE_CLI_CONCAT(kCommand, __LINE__)( \
      order, adder)
#define FAULTLINE_FAKE_COMMAND(order, adder)                                                    \
  static const ::faultline::cli::FakeCommandRegistration FAULTLINE_CLI_CONCAT(kFake, __LINE__)( \
      order, adder)
#define FAULTLINE_FILE_KIND(...)                                                      \
  static const ::faultline::cli::FileKindRegistration FAULTLINE_CLI_CONCAT(kFileKind, \
                                                                           __LINE__)(__VA_ARGS__)
