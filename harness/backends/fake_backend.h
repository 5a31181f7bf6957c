// FakeBackend: the services of a stack as in-process fakes on the harness's EventLoop.
//
// kind redis runs fakes/redis (RedisFake), kind postgres fakes/postgres (PostgresFake), each on
// its own loopback port, chosen at the service's first start and kept across restarts so clients
// and exported endpoints stay valid; kind kafka runs fakes/kafka (FakeKafkaCluster, `brokers`
// from the settings) on the ports its mock cluster picks. A restart of a persistent service reuses
// the same fake, so its data survives (as it would on a real server with a volume); any other start
// gets a new, empty one. Handles offer the hooks of harness/backends/hooks.h that the fake can
// honour:
//   redis:    crash kill refuse-connections pause oom latency read-only
//   postgres: crash kill refuse-connections admin-shutdown latency read-only max-connections
//   kafka:    crash kill broker-down latency
//   gpu:      xid thermal gpu-memory-exhausted utilization-stuck smi-failure
//   docker:   pause container-crash crash-loop container-oom container-unhealthy
// Kind gpu runs fakes/gpu (FakeGpuCluster, `devices` and per-device `memory` from the settings;
// its state file for the fake nvidia-smi under <run>/services/<name>/, its control endpoint on the
// service's port); kind docker runs fakes/docker (FakeDockerEngine on <run>/docker-<name>.sock,
// capacity `memory` and `cpus` from the settings). Generic containers are unavailable() with the
// reason.
//
// Fakes hold no processes, and files only in the run directory (the GPU state file, the docker
// socket), so nothing is left for the run directory to clean: a fault is in-process state that
// dies with the fake. Faults are journaled by the fakes (subjects
// "redis:<service>", and the postgres fake's) when a Journal is given.
//
// Thread safety: one thread drives the backend and its handles (the Orchestrator's); a HookFault
// may be healed from any thread. The EventLoop, Clock and Journal must outlive the backend, its
// handles and their HookFaults.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/core/journal.h"
#include "harness/core/run_dir.h"
#include "harness/stack/backend.h"

namespace faultline::backends {

class FakeBackend final : public stack::Backend {
 public:
  // `seed` is mixed into each fake's own seed (eviction sampling, backend pids...).
  FakeBackend(RunDirectory& run, Clock& clock, EventLoop& loop, Journal* journal = nullptr,
              std::uint64_t seed = 0);
  ~FakeBackend() override;
  FakeBackend(const FakeBackend&) = delete;
  FakeBackend& operator=(const FakeBackend&) = delete;

  std::string name() const override { return "fake"; }
  std::optional<std::string> unavailable(const stack::Service& service) const override;
  std::unique_ptr<stack::ServiceHandle> start(const stack::Service& service,
                                              const stack::StartRequest& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline::backends
