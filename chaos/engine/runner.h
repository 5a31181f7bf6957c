// Runner: one scenario run, in the order Chaos Toolkit and Jepsen agree on.
//
//   1. plan the schedule from the seed (dry-run stops here: it prints, injects nothing)
//   2. bring the stack up (fake, local) — the services the scenario touches, proxies in front
//   3. set the workloads up and check the steady-state hypothesis ("before"); if it does not
//      hold, the verdict is unknown: there is nothing to compare against
//   4. step: inject and heal faults on schedule, one operation per workload, alert rules,
//      probes every `every` ("during"; a deviation beyond tolerance aborts when the budget says
//      so), health monitoring (restarts); the budget's max-duration aborts the run
//   5. heal everything, then wait up to `recover` for the hypothesis to hold again ("after")
//   6. final reads, then the invariants on the journal
//   7. rollbacks — always, also after an error or SIGINT/SIGTERM (stop_requested())
// The verdict is pass, fail or unknown, with reasons. On the fake backend time is simulated
// (ManualClock): the same seed gives the same journal digest, and minutes run in moments.
//
// Thread safety: one run per thread; the stop flag is process-wide and async-signal-safe.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "chaos/engine/checkers.h"
#include "chaos/engine/scenario.h"
#include "chaos/engine/schedule.h"
#include "harness/stack/stack.h"

namespace faultline::chaos {

struct RunOptions {
  std::string backend = "fake";
  std::uint64_t seed = 0;
  std::filesystem::path out_dir;  // journal.jsonl goes here (the caller writes the rest)
  bool dry_run = false;
  std::optional<Schedule> schedule;     // replaces the planned one (shrinking)
  const stack::Stack* stack = nullptr;  // --stack; null: the scenario's
};

struct RunResult {
  std::string scenario;
  std::string backend;
  std::uint64_t seed = 0;
  std::string verdict;  // pass | fail | unknown | dry-run
  std::vector<std::string> reasons;
  std::vector<CheckResult> checks;
  std::vector<std::string> covers;
  Schedule schedule;
  std::string digest;
  int faults_injected = 0;
  int invariant_failures = 0;
  double wall_seconds = 0;
  double simulated_seconds = 0;
  std::filesystem::path journal;
  std::string reproduce;

  nlohmann::json to_json() const;
};

RunResult run_scenario(const Scenario& scenario, const RunOptions& options);

// "faultline chaos run NAME --seed S --backend B"
std::string reproduce_command(const std::string& scenario, std::uint64_t seed,
                              const std::string& backend);

// SIGINT/SIGTERM set a flag the runner polls between steps: it stops injecting, heals, runs the
// rollbacks and reports unknown ("interrupted"). Installed once by the CLI.
void install_stop_signals();
bool stop_requested();
void clear_stop_request();  // for tests

}  // namespace faultline::chaos
