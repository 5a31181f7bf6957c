#include "harness/backends/local_backend.h"
#include "harness/core/sanitizers.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "fakes/kafka/fake_kafka.h"
#include "harness/backends/fake_services.h"
#include "harness/backends/local_postgres.h"
#include "harness/backends/local_redis.h"
#include "harness/core/error.h"
#include "harness/core/ports.h"

namespace faultline::backends {

std::optional<std::filesystem::path> find_program(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::filesystem::path candidate = std::filesystem::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

LocalBackend::LocalBackend(RunDirectory& run, Clock& clock) : run_(run), clock_(clock) {}

LocalBackend::~LocalBackend() = default;  // data directories go with pg_data_

std::optional<std::string> LocalBackend::unavailable(const stack::Service& service) const {
  switch (service.kind) {
    case stack::ServiceKind::redis:
      if (!find_program("redis-server")) return "redis-server is not installed (ci/deps.sh)";
      return std::nullopt;
    case stack::ServiceKind::postgres:
      return pg_unavailable();
    case stack::ServiceKind::kafka:
      return librdkafka_unavailable();  // the mock cluster, as for the fake backend
    default:
      return "the local backend cannot run a " + std::string(stack::to_string(service.kind)) +
             " service yet";
  }
}

std::unique_ptr<stack::ServiceHandle> LocalBackend::start(const stack::Service& service,
                                                          const stack::StartRequest& request) {
  if (auto why = unavailable(service)) throw Error(service.name + ": " + *why);
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
  if (service.kind == stack::ServiceKind::postgres) {
    auto& data = pg_data_[service.name];
    if (request.fresh_data || !data) {
      data.reset();  // the old directory goes before the new one is made
      data = std::make_shared<PgDataDir>(run_, pg_os_user());
    }
    return start_local_postgres(run_, service, data, port, dir / "postgres.log");
  }
  return start_local_redis(run_, service, dir, port);
}

}  // namespace faultline::backends
