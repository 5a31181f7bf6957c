// LocalContainers: the local backend's generic containers (ServiceKind::container) — a service
// whose image maps to a program on this machine (fakes/docker/local_images.h: prom/prometheus,
// prom/alertmanager, prom/node-exporter, busybox/alpine/debian/ubuntu, python:*, node:*) runs as
// a real process, through a process-backed Docker Engine fake that this object owns (on a unix
// socket in the run directory) and the docker backend (harness/backends/docker) pointed at it.
//
// So a container service gets, unchanged, what the docker backend does with a real engine: the
// compose mapping (command, environment, healthcheck run by the engine — CMD/CMD-SHELL as real
// local commands —, named volumes, published ports), its waits (health, log lines: the logs are
// the process's output), its stop (SIGTERM, the grace, SIGKILL; then the container is removed)
// and its kill / pause hooks (SIGKILL / SIGSTOP to the real process); the Orchestrator restarts
// a container whose process died (a new container on the same named volumes). Ports: the
// engine gives a server image's listen flag (prometheus, alertmanager, node-exporter:
// --web.listen-address) a free loopback port and publishes it as the container's port, which is
// the endpoint. Every process is a Supervisor child recorded in the run directory (the watchdog
// kills it if the harness is SIGKILLed); the containers' folders and volumes live in a folder of
// the run directory, removed with this object.
//
// Thread safety: as LocalBackend, one thread drives it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "harness/stack/backend.h"

namespace faultline {
class RunDirectory;
}
namespace faultline::fakes::docker {
class FakeDockerEngine;
}

namespace faultline::backends {

class LocalContainers {
 public:
  explicit LocalContainers(RunDirectory& run);
  ~LocalContainers();  // the containers (and their processes), then the engine and its folder
  LocalContainers(const LocalContainers&) = delete;
  LocalContainers& operator=(const LocalContainers&) = delete;

  // "no local program for image <image> of service '<name>' (mapped images: ...)", or nullopt.
  static std::optional<std::string> unavailable(const stack::Service& service);
  // The caller has checked unavailable() (LocalBackend does, for every kind).
  std::unique_ptr<stack::ServiceHandle> start(const stack::Service& service,
                                              const stack::StartRequest& request);
  // The engine running the containers (tests read pids and mounts through it).
  fakes::docker::FakeDockerEngine& engine();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline::backends
