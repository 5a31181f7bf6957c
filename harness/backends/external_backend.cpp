#include "harness/backends/external_backend.h"

#include "harness/backends/postgres_endpoint.h"
#include "harness/backends/probes.h"
#include "harness/core/error.h"

namespace faultline::backends {
namespace {

class ExternalHandle final : public stack::ServiceHandle {
 public:
  ExternalHandle(const stack::Service& service)
      : kind_(service.kind), endpoint_(external_endpoint(service)) {}

  const stack::Endpoint& endpoint() const override { return endpoint_; }
  stack::ProbeResult probe() override {
    switch (kind_) {
      case stack::ServiceKind::redis:
        return ping_redis(endpoint_.host, endpoint_.port);
      case stack::ServiceKind::postgres:
        return ping_postgres(postgres_conninfo(endpoint_));
      default:
        return probe_tcp(endpoint_.host, endpoint_.port);
    }
  }
  // Attached, not owned: the deployment's own supervisor keeps it running; a failed probe is how
  // the Orchestrator sees it down.
  bool running() const override { return attached_; }
  std::optional<int> exit_code() const override { return std::nullopt; }
  void stop(std::chrono::milliseconds) override { attached_ = false; }

 private:
  stack::ServiceKind kind_;
  stack::Endpoint endpoint_;
  bool attached_ = true;
};

}  // namespace

stack::Endpoint external_endpoint(const stack::Service& service) {
  if (!service.external) throw Error("service '" + service.name + "' has no external endpoint");
  const auto& ext = *service.external;
  const std::string where = ext.host + ":" + std::to_string(ext.port);
  stack::Endpoint e;
  switch (service.kind) {
    case stack::ServiceKind::postgres:
      e = postgres_endpoint(service, ext.host, ext.port, "");
      break;
    case stack::ServiceKind::redis:
      e.url = "redis://" + where + "/0";
      e.exports["REDIS_URL"] = e.url;
      break;
    case stack::ServiceKind::kafka:
      e.url = "kafka://" + where;
      e.exports["KAFKA_BOOTSTRAP"] = where;
      break;
    case stack::ServiceKind::docker:
      e.url = "tcp://" + where;
      e.exports["DOCKER_HOST"] = e.url;
      break;
    default:
      e.url = "tcp://" + where;
      break;
  }
  e.host = ext.host;
  e.port = ext.port;
  if (!ext.url.empty()) e.url = ext.url;
  return e;
}

std::optional<std::string> ExternalBackend::unavailable(const stack::Service& service) const {
  if (!service.external) {
    return "service '" + service.name +
           "' has no 'external: {host, port}' in the stack file, so there is nothing to attach to";
  }
  return std::nullopt;
}

std::unique_ptr<stack::ServiceHandle> ExternalBackend::start(const stack::Service& service,
                                                             const stack::StartRequest&) {
  if (auto why = unavailable(service)) throw Error(*why);
  return std::make_unique<ExternalHandle>(service);
}

}  // namespace faultline::backends
