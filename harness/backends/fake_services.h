// The handles of the fake backend's services (see fake_backend.h): one per kind, over a fake that
// the FakeBackend keeps between restarts of a persistent service.
//
// Thread safety: as fake_backend.h.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "harness/stack/backend.h"

namespace faultline::fakes::redis {
class RedisFake;
}
namespace faultline::pg {
class PostgresFake;
}
namespace faultline::fakes::kafka {
class FakeKafkaCluster;
}
namespace faultline::fakes::gpu {
class FakeGpuCluster;
class GpuControlEndpoint;
}  // namespace faultline::fakes::gpu
namespace faultline::fakes::docker {
class FakeDockerEngine;
}
namespace faultline {
class Clock;
class EventLoop;
}  // namespace faultline

namespace faultline::backends {

// What every fake handle shares: an endpoint, and whether the service has "exited" (a crash or
// kill hook) or been stopped.
class FakeHandle : public stack::ServiceHandle {
 public:
  const stack::Endpoint& endpoint() const override { return endpoint_; }
  bool running() const override { return exit_code_.load() < 0 && !stopped_.load(); }
  std::optional<int> exit_code() const override {
    const int code = exit_code_.load();
    return code < 0 ? std::nullopt : std::optional<int>(code);
  }

 protected:
  // The service "dies" with `code`: the caller has already made the fake stop serving.
  void mark_exited(int code) { exit_code_.store(code); }
  void mark_stopped() { stopped_.store(true); }
  bool serving() const { return running(); }

  stack::Endpoint endpoint_;

 private:
  std::atomic<int> exit_code_{-1};
  std::atomic<bool> stopped_{false};
};

std::unique_ptr<stack::ServiceHandle> make_fake_redis_handle(
    std::shared_ptr<fakes::redis::RedisFake> fake, const stack::Service& service);
std::unique_ptr<stack::ServiceHandle> make_fake_postgres_handle(
    std::shared_ptr<pg::PostgresFake> fake, const stack::Service& service);
std::unique_ptr<stack::ServiceHandle> make_fake_kafka_handle(
    std::shared_ptr<fakes::kafka::FakeKafkaCluster> cluster, const stack::Service& service);

// The fake behind a handle made above, or nullptr for any other handle (a local process, an
// external service): for engines that drive the fake's own controls — the chaos engine creates
// Kafka topics and finds partition leaders on the cluster, and dumps the Postgres fake.
std::shared_ptr<pg::PostgresFake> fake_postgres_of(const stack::ServiceHandle& handle);
std::shared_ptr<fakes::kafka::FakeKafkaCluster> fake_kafka_of(const stack::ServiceHandle& handle);

// A gpu service: the device model (its state file in `dir`, for the fake nvidia-smi) and its
// loopback control endpoint on `port` (fake_gpu_service.cpp). settings: devices (2), memory
// (per device, e.g. 40g). Throws Error naming the service for bad settings.
struct FakeGpuInstance {
  std::shared_ptr<fakes::gpu::FakeGpuCluster> cluster;
  std::shared_ptr<fakes::gpu::GpuControlEndpoint> control;
};
std::shared_ptr<FakeGpuInstance> make_fake_gpu(EventLoop& loop, Clock& clock,
                                               const stack::Service& service,
                                               const std::filesystem::path& dir, std::uint16_t port,
                                               std::uint64_t seed);
// A persistent gpu service's restart: every fault healed, the control endpoint serving again.
void restart_fake_gpu(FakeGpuInstance& gpu);
// `source_note` says what the service is ("fake GPU", "fake GPU (no NVML here: ...)").
std::unique_ptr<stack::ServiceHandle> make_fake_gpu_handle(std::shared_ptr<FakeGpuInstance> gpu,
                                                           const stack::Service& service,
                                                           std::string source_note);
// The fake nvidia-smi: $FAULTLINE_FAKE_NVIDIA_SMI, else the one this build made.
std::string fake_nvidia_smi_path();

// A docker service: the Docker Engine fake on the unix socket `socket` (DOCKER_HOST) and on
// 127.0.0.1:`tcp_port` (the endpoint's host and port, for TCP probes and attaching as an external
// service) (fake_docker_service.cpp), its capacity from settings memory and cpus. Throws Error
// naming the service for bad settings or a socket path too long for a unix socket.
std::shared_ptr<fakes::docker::FakeDockerEngine> make_fake_docker(
    EventLoop& loop, Clock& clock, const stack::Service& service,
    const std::filesystem::path& socket, std::uint16_t tcp_port);
std::unique_ptr<stack::ServiceHandle> make_fake_docker_handle(
    std::shared_ptr<fakes::docker::FakeDockerEngine> engine, Clock& clock,
    const stack::Service& service, std::string source_note);

}  // namespace faultline::backends
