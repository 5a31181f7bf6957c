// The handles of the fake backend's services (see fake_backend.h): one per kind, over a fake that
// the FakeBackend keeps between restarts of a persistent service.
//
// Thread safety: as fake_backend.h.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

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

}  // namespace faultline::backends
