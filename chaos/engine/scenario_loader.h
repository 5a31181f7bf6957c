// Loading a scenario file (scenarios/README.md) into a Scenario, refusing bad input before
// anything starts.
//
// Every problem is an InputError naming the file and line (the CLI prints one line, exits 2):
// unknown keys, faults, workloads, probes, checkers and targets (each with "did you mean"), a
// duration or tolerance that does not parse, a schedule longer than the budget, a target that
// the stack does not mark chaos-allowed for the backend (staging), a fault the backend cannot
// do (clock-skew outside fake), a checker missing what it needs (its workload, alert, target).
//
// Thread safety: pure functions (they read the files named).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "chaos/engine/scenario.h"
#include "harness/stack/stack.h"

namespace faultline::chaos {

// `backend` is the mode it will run in: chaos-allowed targets and fake-only faults depend on it.
// `stack` overrides the scenario's own stack (the --stack option); null: the scenario's.
Scenario load_scenario(const std::filesystem::path& file, const std::string& backend,
                       const stack::Stack* stack = nullptr);
Scenario parse_scenario(std::string_view text, const std::string& file, const std::string& backend,
                        const stack::Stack* stack = nullptr);

// "90s", "1m30s", "500ms" -> milliseconds; InputError at `node` if it does not parse.
Millis parse_millis(const YamlReader& reader, const YAML::Node& node, const std::string& what);

}  // namespace faultline::chaos
