// Schedule: the concrete faults of one run — which kind, on which services, from when, for how
// long — planned from the scenario's method and the run's seed before anything is injected.
//
// Fixed faults keep their times; a random method draws `count` faults (kind, start in the window,
// duration in its range) from the Rng child "schedule", and every selector other than `named`
// chooses its services from the Rng child "targets/<i>", so one seed is one schedule, whatever the
// backend. The schedule is what --dry-run prints, what shrinking reduces, and what a shrunk
// scenario writes back as a fixed method.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/engine/scenario.h"
#include "harness/core/rng.h"
#include "harness/stack/stack.h"

namespace faultline::chaos {

struct PlannedFault {
  int index = 0;  // stable across shrinking: the fault's number in the full schedule
  std::string kind;
  std::vector<std::string> targets;  // empty for engine faults without a service
  Millis at{0};
  Millis duration{0};
  nlohmann::json params = nlohmann::json::object();
  std::string selector;  // how the targets were chosen, for the record
};

struct Schedule {
  std::vector<PlannedFault> faults;  // in start order
  Millis end() const;                // when the last fault heals
  nlohmann::json to_json() const;
};

// Resolves `selector` among the stack's services (kind filter, chaos-allowed on `backend`).
std::vector<std::string> select_targets(const TargetSelector& selector, const stack::Stack& stack,
                                        const std::string& backend, Rng& rng);

Schedule plan_schedule(const Scenario& scenario, const stack::Stack& stack,
                       const std::string& backend, std::uint64_t seed);

// Human-readable lines, one per fault: "  #1  partition   postgres   at 15s for 20s".
std::string describe_schedule(const Schedule& schedule);

// The scenario file's text with its method replaced by `schedule` as fixed faults (shrinking).
std::string scenario_with_schedule(const std::string& scenario_text, const Schedule& schedule,
                                   const std::string& new_name);

}  // namespace faultline::chaos
