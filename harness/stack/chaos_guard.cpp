#include "harness/stack/chaos_guard.h"

namespace faultline::stack {
namespace {

class ChaosGuard final : public ServiceHandle {
 public:
  ChaosGuard(std::unique_ptr<ServiceHandle> inner, std::string why)
      : inner_(std::move(inner)), why_(std::move(why)) {}

  const Endpoint& endpoint() const override { return inner_->endpoint(); }
  ProbeResult probe() override { return inner_->probe(); }
  bool running() const override { return inner_->running(); }
  std::optional<int> exit_code() const override { return inner_->exit_code(); }
  void stop(std::chrono::milliseconds grace) override { inner_->stop(grace); }
  std::set<std::string> hooks() const override { return {}; }
  std::unique_ptr<HookFault> apply_hook(const std::string& name, const nlohmann::json&) override {
    throw UsageError("fault hook '" + name + "' refused: " + why_);
  }
  std::vector<std::string> logs() const override { return inner_->logs(); }
  bool keeps_logs() const override { return inner_->keeps_logs(); }

 private:
  std::unique_ptr<ServiceHandle> inner_;
  std::string why_;
};

}  // namespace

std::unique_ptr<ServiceHandle> guard_chaos(std::unique_ptr<ServiceHandle> handle,
                                           const Service& service, const std::string& backend) {
  if (!handle || chaos_allowed(service, backend)) return handle;
  const std::string why =
      service.chaos == ChaosPolicy::forbidden
          ? "service '" + service.name + "' is marked 'chaos: forbidden' in the stack file"
          : "service '" + service.name + "' runs on the " + backend +
                " backend, where chaos is forbidden unless the stack file says 'chaos: allowed'";
  return std::make_unique<ChaosGuard>(std::move(handle), why);
}

}  // namespace faultline::stack
