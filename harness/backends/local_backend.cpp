#include "harness/backends/local_backend.h"
#include "harness/core/sanitizers.h"

#include "chaos/netns/network_namespace.h"
#include "fakes/docker/fake_docker.h"
#include "fakes/gpu/control_http.h"
#include "fakes/gpu/gpu_model.h"
#include "fakes/kafka/fake_kafka.h"
#include "harness/backends/fake_services.h"
#include "harness/backends/local_containers.h"
#include "harness/backends/local_postgres.h"
#include "harness/backends/local_redis.h"
#include "harness/clients/gpu/gpu_probe.h"
#include "harness/core/error.h"
#include "harness/core/event_loop.h"
#include "harness/core/ports.h"

namespace faultline::backends {

LocalBackend::LocalBackend(RunDirectory& run, Clock& clock) : run_(run), clock_(clock) {}

namespace {

// The GPUs NVML finds on this machine: probed through NVML; no fault hooks (real hardware).
class NvmlGpuHandle final : public stack::ServiceHandle {
 public:
  explicit NvmlGpuHandle(std::unique_ptr<clients::GpuSource> source) : source_(std::move(source)) {
    endpoint_.url = "nvml://localhost";
    endpoint_.exports["GPU_SOURCE"] = "nvml";
  }
  const stack::Endpoint& endpoint() const override { return endpoint_; }
  stack::ProbeResult probe() override {
    const auto r = source_->query();
    if (!r.ok) return {false, "NVML: " + r.error};
    return {true, "NVML: " + std::to_string(r.devices.size()) + " devices"};
  }
  bool running() const override { return !stopped_; }
  std::optional<int> exit_code() const override { return std::nullopt; }
  void stop(std::chrono::milliseconds) override { stopped_ = true; }

 private:
  std::unique_ptr<clients::GpuSource> source_;
  stack::Endpoint endpoint_;
  bool stopped_ = false;
};

}  // namespace

LocalBackend::~LocalBackend() {
  containers_.reset();  // container services' processes, engine and folders
  // The fakes go before their event loop; data directories go with pg_data_.
  gpu_.clear();
  docker_.clear();
  // A namespace goes when its last holder does: here, unless a handle still runs its server.
  netns_.clear();
}

std::optional<std::string> LocalBackend::isolate_network(const stack::Service& service) {
  if (service.kind != stack::ServiceKind::redis && service.kind != stack::ServiceKind::postgres) {
    return "the local backend can put only redis and postgres services in a network namespace, "
           "not " +
           std::string(stack::to_string(service.kind)) + " '" + service.name + "'";
  }
  if (!netns_unavailable_) netns_unavailable_ = netns::unavailable(run_);
  if (*netns_unavailable_) return *netns_unavailable_;
  isolated_.insert(service.name);
  return std::nullopt;
}

std::shared_ptr<netns::NetworkNamespace> LocalBackend::network_namespace(
    const std::string& service) const {
  const auto it = netns_.find(service);
  return it == netns_.end() ? nullptr : it->second;
}

fakes::docker::FakeDockerEngine* LocalBackend::container_engine() const {
  return containers_ ? &containers_->engine() : nullptr;
}

std::optional<std::string> LocalBackend::unavailable(const stack::Service& service) const {
  switch (service.kind) {
    case stack::ServiceKind::redis:
      if (!find_program("redis-server")) return "redis-server is not installed (ci/deps.sh)";
      return std::nullopt;
    case stack::ServiceKind::postgres:
      return pg_unavailable();
    case stack::ServiceKind::kafka:
      return librdkafka_unavailable();   // the mock cluster, as for the fake backend
    case stack::ServiceKind::container:  // a real process where the image maps to a program
      return LocalContainers::unavailable(service);
    case stack::ServiceKind::gpu:     // NVML's devices, else the GPU fake
    case stack::ServiceKind::docker:  // no daemon here: the Docker Engine fake
      return std::nullopt;
    default:
      return "the local backend cannot run a " + std::string(stack::to_string(service.kind)) +
             " service yet";
  }
}

std::unique_ptr<stack::ServiceHandle> LocalBackend::start(const stack::Service& service,
                                                          const stack::StartRequest& request) {
  if (auto why = unavailable(service)) throw Error(service.name + ": " + *why);
  if (service.kind == stack::ServiceKind::container) {
    if (!containers_) containers_ = std::make_unique<LocalContainers>(run_);
    return containers_->start(service, request);
  }
  const auto dir = run_.path() / "services" / service.name;
  if (request.fresh_data) std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  int& port = ports_[service.name];
  if (port == 0) port = pick_free_port();
  if (service.kind == stack::ServiceKind::kafka) {
    auto& cluster = kafka_[service.name];
    if (request.fresh_data || !cluster) {
      cluster.reset();
      fakes::kafka::FakeKafkaOptions o;
      o.brokers = std::stoi(service.setting("brokers", "1"));
      cluster = std::make_shared<fakes::kafka::FakeKafkaCluster>(clock_, o);
    } else {
      cluster->heal_all();
    }
    return make_fake_kafka_handle(cluster, service);
  }
  if (service.kind == stack::ServiceKind::gpu) {
    std::string why;
    if (auto nvml = clients::nvml_source(&why))
      return std::make_unique<NvmlGpuHandle>(std::move(nvml));
    if (!loop_) loop_ = std::make_unique<EventLoop>();
    auto& gpu = gpu_[service.name];
    if (request.fresh_data || !gpu) {
      gpu.reset();
      gpu = make_fake_gpu(*loop_, clock_, service, dir, static_cast<std::uint16_t>(port),
                          std::hash<std::string>{}(service.name));
    } else {
      restart_fake_gpu(*gpu);
    }
    return make_fake_gpu_handle(gpu, service, "fake GPU (no NVML here: " + why + ")");
  }
  if (service.kind == stack::ServiceKind::docker) {
    if (!loop_) loop_ = std::make_unique<EventLoop>();
    auto& engine = docker_[service.name];
    if (request.fresh_data || !engine) {
      engine.reset();
      engine = make_fake_docker(*loop_, clock_, service,
                                run_.path() / ("docker-" + service.name + ".sock"),
                                static_cast<std::uint16_t>(port));
    } else {
      engine->clear_failures();
      engine->heal_all();
    }
    return make_fake_docker_handle(engine, clock_, service,
                                   "Docker Engine fake (no Docker daemon on this machine)");
  }
  std::shared_ptr<netns::NetworkNamespace> ns;
  if (isolated_.count(service.name)) {
    auto& made = netns_[service.name];
    if (!made) made = std::make_shared<netns::NetworkNamespace>(run_);  // kept across restarts
    ns = made;
  }
  if (service.kind == stack::ServiceKind::postgres) {
    auto& data = pg_data_[service.name];
    if (request.fresh_data || !data) {
      data.reset();  // the old directory goes before the new one is made
      data = std::make_shared<PgDataDir>(run_, pg_os_user());
    }
    return start_local_postgres(run_, service, data, port, dir / "postgres.log", ns);
  }
  return start_local_redis(run_, service, dir, port, ns);
}

}  // namespace faultline::backends
