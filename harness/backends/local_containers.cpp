// LocalContainers: a process-backed Docker fake and the docker backend pointed at it.
#include "harness/backends/local_containers.h"

#include <unistd.h>

#include <atomic>

#include "fakes/docker/daemon.h"
#include "fakes/docker/fake_docker.h"
#include "fakes/docker/local_images.h"
#include "harness/backends/docker/docker_backend.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/core/run_dir.h"

namespace faultline::backends {

struct LocalContainers::Impl {
  RealClock clock;  // processes live in real time: stop grace, probe intervals and timeouts
  EventLoop loop;
  std::unique_ptr<fakes::docker::FakeDockerEngine> engine;
  std::unique_ptr<DockerBackend> docker;
};

LocalContainers::LocalContainers(RunDirectory& run) : impl_(std::make_unique<Impl>()) {
  static std::atomic<int> counter{0};
  const std::string n = std::to_string(++counter);
  fakes::docker::FakeDockerOptions o;
  o.socket_path = (run.path() / ("containers-" + n + ".sock")).string();
  o.name = "faultline-local-containers";
  fakes::docker::ProcessBackingOptions p;
  p.run = &run;
  p.root = run.path() / ("containers-" + n);
  o.process_backing = p;
  impl_->engine = std::make_unique<fakes::docker::FakeDockerEngine>(impl_->loop, impl_->clock, o);
  DockerBackendOptions d;
  d.docker_host = impl_->engine->docker_host();
  d.log_waits = true;  // the logs are the processes' output
  // No RunDirectory heal actions: they would run `docker rm -f` against this engine, which dies
  // with the harness; the watchdog kills the processes themselves (Supervisor records).
  impl_->docker = std::make_unique<DockerBackend>(d);
}

LocalContainers::~LocalContainers() {
  impl_->docker.reset();  // stops and removes what is left (the processes are reaped)
  impl_->engine.reset();  // kills anything left, removes the folder and the socket
}

std::optional<std::string> LocalContainers::unavailable(const stack::Service& service) {
  if (service.image.empty()) {
    return "service '" + service.name +
           "' names no image (compose build: is not supported by the local backend)";
  }
  if (!fakes::docker::map_local_image(service.image)) {
    return "no local program for image " + fakes::docker::normalized_image(service.image) +
           " of service '" + service.name +
           "' (mapped images: " + fakes::docker::mapped_image_names() +
           ", where their program is installed)";
  }
  return std::nullopt;
}

std::unique_ptr<stack::ServiceHandle> LocalContainers::start(const stack::Service& service,
                                                             const stack::StartRequest& request) {
  if (auto why = impl_->docker->unavailable(service)) throw Error(service.name + ": " + *why);
  return impl_->docker->start(service, request);
}

fakes::docker::FakeDockerEngine& LocalContainers::engine() {
  return *impl_->engine;
}

}  // namespace faultline::backends
