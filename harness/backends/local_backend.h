// LocalBackend: real servers on this machine, as processes the harness supervises.
//
// Each service runs as a child of the harness through the Supervisor, so it is recorded in the
// run directory and dies with the harness even on SIGKILL (the watchdog). Data lives under the run
// directory, in one folder per service: a fresh start empties it, a restart of a persistent
// service keeps it. A service keeps its port across restarts, so endpoints handed out stay valid.
// Kinds it can run today: redis (redis-server, with the service's maxmemory and policy;
// local_redis.h) and postgres (PostgreSQL 15 from a cached initdb template, as an unprivileged
// user; local_postgres.h) and kafka (no broker binary exists here: librdkafka's mock cluster,
// fakes/kafka, as the fake backend runs it), gpu (the devices NVML finds; where NVML or a GPU is
// missing, as here, the GPU fake as the fake backend runs it, saying so in its probe detail and
// GPU_SOURCE export) and docker (no Docker daemon runs here: the Docker Engine fake on a unix
// socket in the run directory, as the fake backend runs it), and generic containers whose image
// maps to a program on this machine (prometheus, alertmanager, node-exporter, busybox-like shell
// images, python, node: local_containers.h) as real processes through a process-backed Docker
// fake. Others report why they are unavailable (a container naming its image and the mapped
// ones), so a test that needs them skips with that reason. Hooks: redis kill, pause;
// postgres kill, pause, admin-shutdown; the fakes' hooks on kafka, gpu (fake only) and docker.
//
// A redis or postgres service can be put in its own network namespace (isolate_network, before
// its first start; chaos/netns): it then runs through `ip netns exec`, listens on the namespace's
// end of a veth pair, and its endpoint is that address (10.213.x.y), so the host, the fault proxy
// and every client reach it over the veth, where a netns partition can cut it. The namespace is
// made at the first start (its removal registered as a heal action before it is made), kept
// across restarts (same address and port), and removed when the backend and every handle of the
// service are gone — after the server has stopped.
//
// Thread safety: one thread drives a LocalBackend and its handles (the Orchestrator's).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "harness/backends/pg_template.h"
#include "harness/core/clock.h"
#include "harness/core/find_program.h"
#include "harness/core/run_dir.h"
#include "harness/stack/backend.h"

namespace faultline::fakes::kafka {
class FakeKafkaCluster;
}
namespace faultline::fakes::docker {
class FakeDockerEngine;
}
namespace faultline {
class EventLoop;
}
namespace faultline::netns {
class NetworkNamespace;
}

namespace faultline::backends {

struct FakeGpuInstance;
class LocalContainers;

class LocalBackend final : public stack::Backend {
 public:
  // Services' data and logs go under `run.path()`.
  LocalBackend(RunDirectory& run, Clock& clock);
  ~LocalBackend() override;

  std::string name() const override { return "local"; }
  std::optional<std::string> unavailable(const stack::Service& service) const override;
  std::unique_ptr<stack::ServiceHandle> start(const stack::Service& service,
                                              const stack::StartRequest& request) override;

  // Runs `service` (a redis or postgres of the stack) in its own network namespace from its next
  // start on. Returns why it cannot (another kind; not root, no iproute2 or iptables: see
  // netns::unavailable), or nullopt. Makes and removes a probe namespace the first time.
  std::optional<std::string> isolate_network(const stack::Service& service);
  // The namespace `service` runs in (made by its first start), or nullptr.
  std::shared_ptr<netns::NetworkNamespace> network_namespace(const std::string& service) const;
  // The process-backed Docker fake running this backend's container services (made by the first
  // one's start), or nullptr.
  fakes::docker::FakeDockerEngine* container_engine() const;

 private:
  RunDirectory& run_;
  Clock& clock_;
  std::map<std::string, int> ports_;                           // per service, kept on restart
  std::map<std::string, std::shared_ptr<PgDataDir>> pg_data_;  // kept for persistent restarts
  std::map<std::string, std::shared_ptr<fakes::kafka::FakeKafkaCluster>> kafka_;
  std::unique_ptr<EventLoop> loop_;  // for the GPU and docker fakes; made on first use
  std::map<std::string, std::shared_ptr<FakeGpuInstance>> gpu_;
  std::map<std::string, std::shared_ptr<fakes::docker::FakeDockerEngine>> docker_;
  std::set<std::string> isolated_;  // services to start in their own network namespace
  std::optional<std::optional<std::string>> netns_unavailable_;            // probed once
  std::map<std::string, std::shared_ptr<netns::NetworkNamespace>> netns_;  // kept on restart
  std::unique_ptr<LocalContainers> containers_;  // container services; made on first use
};

using faultline::find_program;  // harness/core/find_program.h

}  // namespace faultline::backends
