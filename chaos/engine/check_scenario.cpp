// Teaches `faultline check` scenario files: loaded as `faultline chaos run` loads them for the fake
// backend (the embedded default stack unless the scenario names another), so every error a run
// would refuse the file with — file:line, exit 2 — shows without starting anything.
#include <string>

#include "chaos/engine/scenario_loader.h"
#include "harness/cli/commands.h"

namespace faultline::chaos {
namespace {

bool is_scenario(const std::set<std::string>& keys) {
  return keys.count("scenario") > 0;
}

std::string check_scenario(const std::string& path) {
  const Scenario s = load_scenario(path, "fake");
  std::string modes;
  for (const auto& m : s.modes) modes += (modes.empty() ? "" : ",") + m;
  const std::size_t faults = s.faults.size();
  return "'" + s.name + "', " + std::to_string(faults) + (faults == 1 ? " fault" : " faults") +
         (s.random ? " + a random schedule" : "") + ", " + std::to_string(s.invariants.size()) +
         " invariant(s), modes " + modes;
}

FAULTLINE_FILE_KIND(cli::FileKind{"scenario", 5, is_scenario, check_scenario});

}  // namespace
}  // namespace faultline::chaos
