// FaultKind: the registry of faults a scenario may name, and how each is injected and healed.
//
// Three families, as the design map sorts them:
//   proxy    a toxic on the fault proxy in front of the target — partition (the link goes silent,
//            then the peer's connection is closed after `timeout_ms`), latency, reset, bandwidth.
//            Works on every backend, staging included: the proxy is ours.
//   hook     the target's own fault hook (ServiceHandle::apply_hook, harness/backends/hooks.h):
//            crash, kill, refuse-connections, pause, oom, admin-shutdown, slow-queries, read-only,
//            max-connections, broker-down (kafka; a broker, or a partition's leader). What a
//            backend cannot offer is refused before the run.
//   engine   faults of the application or of time itself: hold-connections (clients hold every
//            connection of the application's pool), clock-skew (simulated time jumps; fake only),
//            corrupt-backup (flipped bytes in the newest backup of a backup workload).
//   netns    netns-partition (netns_fault.cpp): a real partition of a local service the backend
//            started in its own network namespace (chaos/netns); local backend, root only.
// An ActiveFault heals on heal() and on destruction, so a fault never outlives the run.
//
// Thread safety: the registry is immutable; injection runs on the runner's thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace faultline::chaos {

class Environment;

class ActiveFault {
 public:
  virtual ~ActiveFault() = default;
  // Undoes the fault. Idempotent.
  virtual void heal() = 0;
};

struct FaultKind {
  std::string name;
  std::string family;  // proxy | hook | engine
  std::string summary;
  std::vector<std::string> params;  // parameter names it accepts
  bool fake_only = false;
  std::string hook;  // hook family: the ServiceHandle hook it applies
  std::function<std::unique_ptr<ActiveFault>(Environment&, const std::string& target,
                                             const nlohmann::json& params)>
      inject;
  // Optional: what the fault needs of the stack, asked for each target before the stack comes up
  // (never on a dry run). Returns why the fault cannot run here, or nullopt; the runner then
  // refuses the run with that reason (verdict unknown) before anything starts.
  std::function<std::optional<std::string>(Environment&, const std::string& target)> prepare =
      nullptr;
};

const FaultKind* find_fault_kind(const std::string& name);
std::vector<std::string> fault_kind_names();

}  // namespace faultline::chaos
