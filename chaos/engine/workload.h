// Workload: what the application does to the stack while faults land, one operation per step.
//
// A workload journals every operation it attempts — op.invoke, then op.ok, op.fail (with a
// reason) or op.info (outcome unknown: the request may have landed) — with the simulated time,
// so checkers can decide from the journal alone what was acknowledged and what was seen. Each
// operation goes through the Environment's OpDriver, so on simulated time it may wait on the
// clock without stopping the run. `finish` runs after the faults are healed (e.g. reading back
// everything written), and `metrics` gives the values the alert rules and probes watch.
//
// Registered by name (orders, cache, ...) in workloads.cpp; a scenario names them.
//
// Thread safety: a workload is driven by the runner's thread; its operations run on the driver's
// worker, one at a time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chaos/engine/scenario.h"

namespace faultline::chaos {

class Environment;

class Workload {
 public:
  virtual ~Workload() = default;
  const std::string& name() const { return name_; }
  // Prepares the target (tables, keys). Throws Error if it cannot.
  virtual void setup() = 0;
  // One operation.
  virtual void step() = 0;
  // After the method: final reads that checkers need.
  virtual void finish() {}
  // Current values ("latency_ms", "error_rate", "pool_open", ...), for probes and alert rules.
  virtual std::map<std::string, double> metrics() const = 0;

 protected:
  explicit Workload(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
};

struct WorkloadKind {
  std::string name;
  std::string summary;
  std::vector<std::string> target_kinds;  // service kinds it runs against
  std::vector<std::string> params;
  std::unique_ptr<Workload> (*make)(const WorkloadSpec& spec, Environment& env);
};

const WorkloadKind* find_workload_kind(const std::string& name);
std::vector<std::string> workload_kind_names();

// Sliding outcome window shared by the workloads: error rate over the last N operations.
class OutcomeWindow {
 public:
  explicit OutcomeWindow(std::size_t size = 5) : size_(size) {}
  void add(bool ok);
  double error_rate() const;

 private:
  std::size_t size_;
  std::vector<bool> outcomes_;
};

}  // namespace faultline::chaos
