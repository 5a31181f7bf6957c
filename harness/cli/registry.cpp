// The command registry and shared state of the `faultline` CLI (see commands.h).
#include <algorithm>
#include <utility>
#include <vector>

#include "harness/cli/commands.h"

namespace faultline::cli {
namespace {

using Entries = std::vector<std::pair<int, CommandAdder>>;
// Function-local statics: registrations run during static initialisation, in any order.
Entries& commands() {
  static Entries entries;
  return entries;
}
Entries& fakes() {
  static Entries entries;
  return entries;
}

std::vector<FileKind>& file_kinds() {
  static std::vector<FileKind> kinds;
  return kinds;
}

int g_exit_code = 0;
GlobalOptions g_global;

void add_sorted(Entries entries, CLI::App& parent) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [order, add] : entries) add(parent);
}

}  // namespace

void set_exit_code(int code) {
  g_exit_code = code;
}
int exit_code() {
  return g_exit_code;
}
const GlobalOptions& global_options() {
  return g_global;
}
GlobalOptions& mutable_global_options() {
  return g_global;
}

CommandRegistration::CommandRegistration(int order, CommandAdder add) {
  commands().emplace_back(order, add);
}

FakeCommandRegistration::FakeCommandRegistration(int order, CommandAdder add) {
  fakes().emplace_back(order, add);
}

FileKindRegistration::FileKindRegistration(FileKind kind) {
  file_kinds().push_back(std::move(kind));
}

std::vector<FileKind> registered_file_kinds() {
  std::vector<FileKind> kinds = file_kinds();
  std::stable_sort(kinds.begin(), kinds.end(),
                   [](const auto& a, const auto& b) { return a.order < b.order; });
  return kinds;
}

void add_registered_commands(CLI::App& app) {
  add_sorted(commands(), app);
  if (!fakes().empty()) {
    auto* fake = app.add_subcommand(
        "fake",
        "Run one in-process fake on its own, to poke with real clients and fault through "
        "its control endpoint");
    fake->require_subcommand(1);
    add_sorted(fakes(), *fake);
  }
}

}  // namespace faultline::cli
