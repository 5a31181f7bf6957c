// The fake backend's postgres service: a PostgresFake behind a ServiceHandle with its fault hooks.
#include <chrono>

#include "fakes/postgres/postgres_fake.h"
#include "harness/backends/fake_services.h"
#include "harness/backends/hook_fault.h"
#include "harness/backends/hooks.h"
#include "harness/backends/postgres_endpoint.h"
#include "harness/backends/probes.h"

namespace faultline::backends {
namespace {

using pg::PostgresFake;

class FakePostgresHandle final : public FakeHandle {
 public:
  FakePostgresHandle(std::shared_ptr<PostgresFake> fake, const stack::Service& service)
      : fake_(std::move(fake)) {
    endpoint_ = postgres_endpoint(service, "127.0.0.1", fake_->port(), "");
  }
  ~FakePostgresHandle() override { fake_->stop(); }

  stack::ProbeResult probe() override {
    if (!serving()) return {false, "the fake has exited"};
    return ping_postgres(postgres_conninfo(endpoint_));
  }
  void stop(std::chrono::milliseconds) override {
    fake_->stop();
    mark_stopped();
  }
  std::set<std::string> hooks() const override {
    return {hook::kCrash,   hook::kKill,     hook::kRefuseConnections, hook::kAdminShutdown,
            hook::kLatency, hook::kReadOnly, hook::kMaxConnections};
  }

  std::unique_ptr<stack::HookFault> apply_hook(const std::string& name,
                                               const nlohmann::json& args) override {
    auto fake = fake_;
    if (name == hook::kCrash || name == hook::kKill) {
      const int code = static_cast<int>(hook_int(name, args, "exit_code", 137, 0));
      fake->crash(std::chrono::nanoseconds(0));  // connections dropped, uncommitted work lost
      fake->stop();
      mark_exited(code);
      return std::make_unique<CallbackHookFault>(nullptr);
    }
    if (name == hook::kRefuseConnections) {
      fake->set_refuse_connections(true);
      return std::make_unique<CallbackHookFault>([fake] { fake->set_refuse_connections(false); });
    }
    if (name == hook::kAdminShutdown) {
      const auto ms = hook_int(name, args, "refuse_ms", 0, 0);
      fake->admin_shutdown(std::chrono::milliseconds(ms));
      return std::make_unique<CallbackHookFault>(nullptr);  // it reopens by itself
    }
    if (name == hook::kReadOnly) {
      fake->set_read_only(true);
      return std::make_unique<CallbackHookFault>([fake] { fake->set_read_only(false); });
    }
    if (name == hook::kMaxConnections) {
      fake->set_max_connections(static_cast<int>(hook_int(name, args, "limit", std::nullopt, 0)));
      return std::make_unique<CallbackHookFault>([fake] { fake->reset_max_connections(); });
    }
    if (name == hook::kLatency) {
      const auto ms = hook_int(name, args, "ms", std::nullopt, 0);
      const std::string pattern = hook_string(name, args, "pattern", ".*");
      const auto id = fake->add_slow_query(pattern, std::chrono::milliseconds(ms));
      return std::make_unique<CallbackHookFault>([fake, id] { fake->remove_query_rule(id); });
    }
    return FakeHandle::apply_hook(name, args);
  }

  const std::shared_ptr<PostgresFake>& fake() const { return fake_; }

 private:
  std::shared_ptr<PostgresFake> fake_;
};

}  // namespace

std::unique_ptr<stack::ServiceHandle> make_fake_postgres_handle(std::shared_ptr<PostgresFake> fake,
                                                                const stack::Service& service) {
  return std::make_unique<FakePostgresHandle>(std::move(fake), service);
}

std::shared_ptr<PostgresFake> fake_postgres_of(const stack::ServiceHandle& handle) {
  const auto* h = dynamic_cast<const FakePostgresHandle*>(&handle);
  return h ? h->fake() : nullptr;
}

}  // namespace faultline::backends
