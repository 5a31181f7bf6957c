// Scenario: one chaos experiment as the scenario file states it (scenarios/README.md), typed.
//
// A scenario names the stack, the workloads, the steady-state hypothesis (probes with tolerances,
// checked before, during and after the method), the method (fixed faults, or a seeded random
// schedule), the invariants checked on the journal, alert rules, rollbacks, a budget and the
// requirement ids it evidences. The loader (scenario_loader.h) fills it and has already checked
// every name against its registry, so the runner never meets an unknown fault or checker.
//
// Thread safety: a Scenario is an immutable value once loaded.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/engine/tolerance.h"
#include "harness/core/error.h"

namespace faultline::chaos {

using Millis = std::chrono::milliseconds;

// Which services a fault touches. `named` lists them; the others pick among the candidates (the
// services of `kind`, or all, that chaos may touch) with the run's seed, as Jepsen's nemeses do.
struct TargetSelector {
  enum class Mode { named, one, minority, majority, all, random };
  Mode mode = Mode::named;
  std::vector<std::string> names;  // named: the services; otherwise an optional candidate list
  std::string kind;                // optional filter on the service kind ("postgres")
  SourceLocation where;

  std::string describe() const;
};
std::string_view to_string(TargetSelector::Mode mode);

struct FaultSpec {
  std::string kind;  // a registered fault kind (fault_kind.h)
  TargetSelector target;
  Millis at{0};
  Millis duration{0};
  nlohmann::json params = nlohmann::json::object();
  SourceLocation where;
};

// "faults: N of these kinds, each starting in [from, to) and lasting [min, max]".
struct RandomSchedule {
  int count = 0;
  std::vector<std::string> kinds;
  TargetSelector target;
  Millis from{0}, to{0};
  Millis min_duration{0}, max_duration{0};
  nlohmann::json params = nlohmann::json::object();  // per kind: {"latency": {"ms": 300}}
  SourceLocation where;
};

struct WorkloadSpec {
  std::string name;  // registered workload kind; also the journal subject
  std::string target;
  nlohmann::json params = nlohmann::json::object();
  SourceLocation where;
};

struct ProbeSpec {
  std::string name;
  std::string kind;                 // registered probe kind (probes.h)
  std::string target;               // a service, for service probes
  std::string workload;             // a workload, for workload probes
  std::string alert;                // an alert rule, for alert probes
  std::string metric;               // a workload metric, for metric probes
  Tolerance tolerance;              // before and after
  std::optional<Tolerance> during;  // during the method; unchecked when absent
  SourceLocation where;
};

struct SteadyState {
  std::vector<ProbeSpec> probes;
  Millis every{5'000};     // during: probe frequency
  Millis recover{30'000};  // after: how long the hypothesis may take to hold again
};

struct InvariantSpec {
  std::string check;  // registered checker (checkers.h)
  std::string workload;
  std::string target;
  std::string alert;
  Millis within{0};
  nlohmann::json params = nlohmann::json::object();
  SourceLocation where;
};

struct AlertSpec {
  std::string name;
  std::string metric;  // "<workload>.<metric>", e.g. orders.latency_ms
  bool above = true;
  double threshold = 0;
  Millis for_duration{0};
  std::string severity = "warning";
  SourceLocation where;
};

struct RollbackSpec {
  std::string action;  // heal-all | restart | reset-proxies
  std::string target;
  SourceLocation where;
};

struct Budget {
  Millis max_duration{600'000};
  bool abort_on_deviation = true;
};

struct Scenario {
  std::string name;
  std::string description;
  std::string file;
  std::string stack;               // "" or "default": the embedded default stack; else a path
  std::vector<std::string> modes;  // backends it supports: fake, local, external
  Millis duration{60'000};         // length of the method window
  Millis step{1'000};              // one workload operation per workload per step
  std::vector<WorkloadSpec> workloads;
  SteadyState steady_state;
  std::vector<FaultSpec> faults;
  std::optional<RandomSchedule> random;
  std::vector<InvariantSpec> invariants;
  std::vector<AlertSpec> alerts;
  std::vector<RollbackSpec> rollbacks;
  Budget budget;
  std::vector<std::string> covers;

  bool supports(const std::string& backend) const;
};

}  // namespace faultline::chaos
