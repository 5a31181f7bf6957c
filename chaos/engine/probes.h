// Probes of the steady-state hypothesis: what a probe kind measures, and measuring it.
//
//   service-healthy  the target's health probe passes and it is running      -> true/false
//   metric           a workload's current metric (error_rate, latency_ms...) -> number
//   alert-firing     whether an alert rule of the scenario is firing          -> true/false
// Every measurement is journaled as a "probe" event with its phase, value and verdict, so the
// timeline draws probe lines and checkers can ask when a service was healthy again.
//
// Thread safety: probes run on the runner's thread (service probes through the OpDriver).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/engine/scenario.h"

namespace faultline::chaos {

class Environment;
class Workload;

struct ProbeContext {
  Environment& env;
  const std::map<std::string, std::unique_ptr<Workload>>& workloads;
  const std::set<std::string>& firing_alerts;
};

struct ProbeKind {
  std::string name;
  std::string needs;  // target | workload | alert
  std::string summary;
  std::function<nlohmann::json(const ProbeSpec&, ProbeContext&)> measure;
};

const ProbeKind* find_probe_kind(const std::string& name);
std::vector<std::string> probe_kind_names();

struct ProbeOutcome {
  std::string probe;
  nlohmann::json value;
  bool ok = false;
  std::string describe() const;  // "orders-errors = 0.4, expected <= 0.2"
};

// Measures every probe (with `during` tolerances in phase "during", skipping probes that have
// none), journals each, and returns the outcomes.
std::vector<ProbeOutcome> check_hypothesis(const SteadyState& hypothesis, const std::string& phase,
                                           ProbeContext& context);

}  // namespace faultline::chaos
