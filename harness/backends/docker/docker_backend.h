// DockerBackend: runs each service of a stack as a container through the Docker Engine API
// (harness/clients/docker's DockerClient) against any engine DOCKER_HOST names — dockerd, or the
// Docker fake (fakes/docker, `faultline fake docker`), which is what the tests here use.
//
// A service becomes one container named "<project>-<service>", labelled with the project and the
// service (and compose's own labels), on the stack's networks ("<project>_<network>"; services
// without networks share "<project>_default", as compose does). What goes into the container:
// the image (a kind without one gets postgres:15, redis:7-alpine), the command (redis: the
// service's maxmemory settings when it has no command), the environment (postgres: POSTGRES_DB
// and POSTGRES_USER from the settings, POSTGRES_PASSWORD from the variable `password-env` names),
// the healthcheck (run by the engine), memory and CPU limits, published ports, and named volumes
// ("<project>_<volume>"), which is where a persistent service's data outlives its container.
//
// Restarts: by default the Orchestrator applies the restart policy (the engine gets "no", so one
// party restarts and ServiceStatus counts the restarts); with `engine_restarts` the engine gets
// the policy and the handle reports running while the engine restarts the container.
//
// Health: probe() is the engine's health status where the container has a healthcheck (healthy
// passes; starting and unhealthy do not), else "running". The endpoint's port is the host port the
// engine reports having published (none on the Docker fake, which runs no processes: there the
// waits are the engine's health status). logs() are the container's logs; keeps_logs() follows
// `log_waits` below.
//
// Hooks: kill (SIGKILL through the engine, exit 137; heal is a no-op, the restart recovers),
// pause (the engine freezes the container; heal unpauses), disconnect (the container's endpoints
// on its networks are removed — a partition as the engine sees it; {"network": name} narrows it
// to one; heal reconnects). It lacks the protocol-level hooks (latency, refuse-connections,
// read-only, oom, admin-shutdown, max-connections): those need the fault proxy or the service's
// own fake. kafka with more than one broker, gpu and docker-in-docker services are unavailable().
//
// Nothing is left behind: stop() stops (grace as `docker stop -t`) and removes the container;
// the backend's destructor removes what is left of its project (containers, then networks, and a
// generated project's volumes). With a RunDirectory, every container, network and generated
// project's volume is registered as a heal action (`docker -H <host> rm -f` / `network rm` /
// `volume rm -f`) before it is created, so a harness killed with SIGKILL still has them removed
// by the watchdog or `faultline reap`. Containers, networks and volumes carry the
// `faultline.project` label.
//
// Thread safety: as every Backend, driven from one thread at a time.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "harness/stack/backend.h"

namespace faultline {
class RunDirectory;
}
namespace faultline::clients {
class DockerClient;
}

namespace faultline::backends {

namespace hook {
inline constexpr const char* kDisconnect = "disconnect";  // docker backend: a network partition
}

struct DockerBackendOptions {
  std::string docker_host;  // "unix:///path" or "tcp://host:port"; empty: $DOCKER_HOST
  std::string project;      // container and network prefix; empty: "faultline-<pid>-<n>"
  bool engine_restarts = false;
  // Whether the default wait also waits for the kind's readiness line in the container's log
  // (keeps_logs()). nullopt: yes, unless the engine is the Docker fake, whose containers run no
  // process and so log nothing (a test can still script log lines with its append_log).
  std::optional<bool> log_waits;
  RunDirectory* run = nullptr;  // for heal actions (recommended with a real engine)
};

class DockerBackend final : public stack::Backend {
 public:
  // Connects lazily: an unreachable engine makes every service unavailable() with the reason.
  explicit DockerBackend(DockerBackendOptions options = {});
  ~DockerBackend() override;  // removes the project's containers and networks
  DockerBackend(const DockerBackend&) = delete;
  DockerBackend& operator=(const DockerBackend&) = delete;

  std::string name() const override { return "docker"; }
  std::optional<std::string> unavailable(const stack::Service& service) const override;
  std::unique_ptr<stack::ServiceHandle> start(const stack::Service& service,
                                              const stack::StartRequest& request) override;

  const std::string& project() const;
  std::string container_name(const std::string& service) const;
  std::string network_name(const std::string& network) const;
  clients::DockerClient& client();

  struct Impl;  // shared with the handles (docker_backend.cpp)

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace faultline::backends
