// Backend: how a service of a Stack comes to life — fake, local, docker or external.
//
// A backend turns a Service into a ServiceHandle: an endpoint for clients, a health probe, a way
// to stop it, and the fault hooks that backend can offer (a fake can refuse connections or answer
// OOM; a local process can be killed or paused; staging only through the proxy). The Orchestrator
// drives backends only through this interface, so the same start order, health waits, restarts
// and shutdown apply to all of them, and tests can drive it with a scripted backend.
//
// Thread safety: the Orchestrator calls a backend and its handles from one thread at a time.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/error.h"
#include "harness/stack/stack.h"

namespace faultline::stack {

struct Endpoint {
  std::string host;         // "127.0.0.1"
  int port = 0;             // 0: none (unix socket only)
  std::string unix_socket;  // may be empty
  std::string url;          // e.g. "redis://127.0.0.1:6379/0"; also the health_check_url
  std::map<std::string, std::string> exports;  // shell exports for `faultline up` (PGHOST...)
};

struct ProbeResult {
  bool ok = false;
  std::string detail;  // what the probe saw, for the journal and for timeout errors
};

// A fault applied through one of a handle's hooks. heal() undoes it (idempotent); destruction
// heals too, so a fault never outlives its owner. Hooks with nothing to undo (a kill: the
// Orchestrator's restart is the recovery) heal as a no-op.
class HookFault {
 public:
  virtual ~HookFault() = default;
  virtual void heal() = 0;
};

class ServiceHandle {
 public:
  virtual ~ServiceHandle() = default;
  virtual const Endpoint& endpoint() const = 0;
  // One health probe (the service's healthcheck, or the backend's own readiness check).
  virtual ProbeResult probe() = 0;
  // False once the service has exited (a crash, a kill, or it ran to completion).
  virtual bool running() const = 0;
  // The exit code once it has exited, if the backend knows it.
  virtual std::optional<int> exit_code() const = 0;
  // Stops it: a graceful signal, then a forced one after `grace`.
  virtual void stop(std::chrono::milliseconds grace) = 0;
  // The fault hooks this handle offers ("kill", "pause", "refuse-connections", "oom", ...).
  virtual std::set<std::string> hooks() const { return {}; }
  // Applies hook `name` (one of hooks()) with its arguments (e.g. {"exit_code": 137}); throws
  // UsageError naming the hook for one this handle lacks or arguments it cannot take.
  virtual std::unique_ptr<HookFault> apply_hook(const std::string& name,
                                                const nlohmann::json& args) {
    (void)args;
    throw UsageError("service has no fault hook '" + name + "'");
  }
  // Recent log lines, for log-line wait strategies; backends without logs return none.
  virtual std::vector<std::string> logs() const { return {}; }
  // True when logs() holds the output of this start (so the default wait also waits for the
  // kind's readiness line, see wait_strategy.h); false for backends that keep no log.
  virtual bool keeps_logs() const { return false; }
};

struct StartRequest {
  // True when the service must start from empty data: its first start, or any start of a service
  // that is not persistent. A persistent service's restart keeps its data.
  bool fresh_data = true;
  int attempt = 0;  // 0 for the first start, then 1, 2... for restarts
};

// Thrown by Backend::start when the machine or engine cannot host the service (memory, CPU, a
// device); the Orchestrator reports it as the service's error, not a crash of the run.
class ResourceError : public Error {
 public:
  using Error::Error;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;  // "fake", "local", "docker", "external"
  // Why this backend cannot run `service` here (a missing binary, no GPU...), or nullopt.
  virtual std::optional<std::string> unavailable(const Service& service) const = 0;
  // Starts the service and returns at once; readiness is the Orchestrator's to wait for.
  virtual std::unique_ptr<ServiceHandle> start(const Service& service,
                                               const StartRequest& request) = 0;
};

}  // namespace faultline::stack
