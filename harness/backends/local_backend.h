// LocalBackend: real servers on this machine, as processes the harness supervises.
//
// Each service runs as a child of the harness through the Supervisor, so it is recorded in the
// run directory and dies with the harness even on SIGKILL (the watchdog). Data lives under the run
// directory, in one folder per service: a fresh start empties it, a restart of a persistent
// service keeps it. Kinds it can run today: redis (redis-server, with the service's maxmemory and
// policy). Others report why they are unavailable, so a test that needs them skips with that
// reason.
//
// Thread safety: one thread drives a LocalBackend and its handles (the Orchestrator's).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "harness/core/clock.h"
#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"
#include "harness/stack/backend.h"

namespace faultline::backends {

class LocalBackend final : public stack::Backend {
 public:
  // Services' data and logs go under `run.path()`.
  LocalBackend(RunDirectory& run, Clock& clock);

  std::string name() const override { return "local"; }
  std::optional<std::string> unavailable(const stack::Service& service) const override;
  std::unique_ptr<stack::ServiceHandle> start(const stack::Service& service,
                                              const stack::StartRequest& request) override;

 private:
  RunDirectory& run_;
  Clock& clock_;
  Supervisor supervisor_;
};

// The full path of `program` in PATH, or nullopt.
std::optional<std::filesystem::path> find_program(const std::string& program);

}  // namespace faultline::backends
