// The fake backend's redis service: a RedisFake behind a ServiceHandle with its fault hooks.
#include <chrono>

#include "fakes/redis/server.h"
#include "harness/backends/fake_services.h"
#include "harness/backends/hook_fault.h"
#include "harness/backends/hooks.h"
#include "harness/backends/probes.h"

namespace faultline::backends {
namespace {

using fakes::redis::RedisFake;

class FakeRedisHandle final : public FakeHandle {
 public:
  FakeRedisHandle(std::shared_ptr<RedisFake> fake, const stack::Service& service)
      : fake_(std::move(fake)) {
    const int port = fake_->port();
    endpoint_.host = "127.0.0.1";
    endpoint_.port = port;
    endpoint_.url = "redis://127.0.0.1:" + std::to_string(port) + "/0";
    endpoint_.exports["REDIS_URL"] = endpoint_.url;
    (void)service;
  }
  ~FakeRedisHandle() override { fake_->stop(); }

  stack::ProbeResult probe() override {
    if (!serving()) return {false, "the fake has exited"};
    return ping_redis(endpoint_.host, endpoint_.port);
  }
  void stop(std::chrono::milliseconds) override {
    fake_->stop();
    mark_stopped();
  }
  std::set<std::string> hooks() const override {
    return {hook::kCrash, hook::kKill,    hook::kRefuseConnections, hook::kPause,
            hook::kOom,   hook::kLatency, hook::kReadOnly};
  }

  std::unique_ptr<stack::HookFault> apply_hook(const std::string& name,
                                               const nlohmann::json& args) override {
    auto fake = fake_;
    if (name == hook::kCrash || name == hook::kKill) {
      const int code = static_cast<int>(hook_int(name, args, "exit_code", 137, 0));
      fake->stop();
      mark_exited(code);
      return std::make_unique<CallbackHookFault>(nullptr);
    }
    if (name == hook::kRefuseConnections) {
      fake->refuse_connections(true);
      return std::make_unique<CallbackHookFault>([fake] { fake->refuse_connections(false); });
    }
    if (name == hook::kPause) {
      fake->pause(true);
      return std::make_unique<CallbackHookFault>([fake] { fake->pause(false); });
    }
    if (name == hook::kOom) {
      fake->oom(true);
      return std::make_unique<CallbackHookFault>([fake] { fake->oom(false); });
    }
    if (name == hook::kReadOnly) {
      fake->readonly(true);
      return std::make_unique<CallbackHookFault>([fake] { fake->readonly(false); });
    }
    if (name == hook::kLatency) {
      const auto ms = hook_int(name, args, "ms", std::nullopt, 0);
      const std::string command = hook_string(name, args, "command", "*");
      fake->latency(command, std::chrono::milliseconds(ms));
      return std::make_unique<CallbackHookFault>(
          [fake, command] { fake->latency(command, std::nullopt); });
    }
    return FakeHandle::apply_hook(name, args);
  }

 private:
  std::shared_ptr<RedisFake> fake_;
};

}  // namespace

std::unique_ptr<stack::ServiceHandle> make_fake_redis_handle(std::shared_ptr<RedisFake> fake,
                                                             const stack::Service& service) {
  return std::make_unique<FakeRedisHandle>(std::move(fake), service);
}

}  // namespace faultline::backends
