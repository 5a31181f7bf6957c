// The fake backend's kafka service: a FakeKafkaCluster (fakes/kafka) behind a ServiceHandle.
#include <sstream>

#include "fakes/kafka/fake_kafka.h"
#include "harness/backends/fake_services.h"
#include "harness/backends/hook_fault.h"
#include "harness/backends/hooks.h"

namespace faultline::backends {
namespace {

using fakes::kafka::FakeKafkaCluster;

class FakeKafkaHandle final : public FakeHandle {
 public:
  FakeKafkaHandle(std::shared_ptr<FakeKafkaCluster> cluster, const stack::Service&)
      : cluster_(std::move(cluster)) {
    const std::string bootstrap = cluster_->bootstrap();
    const std::string first = bootstrap.substr(0, bootstrap.find(','));
    endpoint_.host = first.substr(0, first.rfind(':'));
    endpoint_.port = std::stoi(first.substr(first.rfind(':') + 1));
    endpoint_.url = "kafka://" + bootstrap;
    endpoint_.exports["KAFKA_BOOTSTRAP"] = bootstrap;
  }
  ~FakeKafkaHandle() override { all_down(); }

  // The cluster's own view: serving while a broker is up (clients bootstrap from any of them).
  stack::ProbeResult probe() override {
    if (!serving()) return {false, "the fake has exited"};
    const auto health = cluster_->health();
    std::ostringstream detail;
    detail << health.brokers_up.size() << "/" << cluster_->broker_count() << " brokers up, "
           << health.offline_partitions << " offline partitions";
    return {!health.brokers_up.empty(), detail.str()};
  }
  void stop(std::chrono::milliseconds) override {
    all_down();
    mark_stopped();
  }
  std::set<std::string> hooks() const override {
    return {hook::kCrash, hook::kKill, hook::kBrokerDown, hook::kLatency};
  }
  std::unique_ptr<stack::HookFault> apply_hook(const std::string& name,
                                               const nlohmann::json& args) override {
    auto cluster = cluster_;
    if (name == hook::kCrash || name == hook::kKill) {
      const int code = static_cast<int>(hook_int(name, args, "exit_code", 137, 0));
      all_down();
      mark_exited(code);
      return std::make_unique<CallbackHookFault>(nullptr);
    }
    if (name == hook::kBrokerDown) {
      const int broker = static_cast<int>(hook_int(name, args, "broker", std::nullopt, 1));
      if (broker > cluster->broker_count()) {
        throw UsageError("hook 'broker-down': no broker " + std::to_string(broker) + " (1.." +
                         std::to_string(cluster->broker_count()) + ")");
      }
      cluster->broker_down(broker);
      return std::make_unique<CallbackHookFault>([cluster, broker] { cluster->broker_up(broker); });
    }
    if (name == hook::kLatency) {
      const auto ms = hook_int(name, args, "ms", std::nullopt, 0);
      const int broker = static_cast<int>(hook_int(name, args, "broker", -1, -1));
      cluster->set_rtt(broker, std::chrono::milliseconds(ms));
      return std::make_unique<CallbackHookFault>(
          [cluster, broker] { cluster->set_rtt(broker, std::chrono::milliseconds(0)); });
    }
    return FakeHandle::apply_hook(name, args);
  }

  const std::shared_ptr<FakeKafkaCluster>& cluster() const { return cluster_; }

 private:
  void all_down() {
    for (int b = 1; b <= cluster_->broker_count(); ++b) cluster_->broker_down(b);
  }
  std::shared_ptr<FakeKafkaCluster> cluster_;
};

}  // namespace

std::unique_ptr<stack::ServiceHandle> make_fake_kafka_handle(
    std::shared_ptr<FakeKafkaCluster> cluster, const stack::Service& service) {
  return std::make_unique<FakeKafkaHandle>(std::move(cluster), service);
}

std::shared_ptr<FakeKafkaCluster> fake_kafka_of(const stack::ServiceHandle& handle) {
  const auto* h = dynamic_cast<const FakeKafkaHandle*>(&handle);
  return h ? h->cluster() : nullptr;
}

}  // namespace faultline::backends
