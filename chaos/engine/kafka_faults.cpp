// The kafka fault kinds of the registry (fault_kind.h):
//
//   broker-down  (hook) a broker of the target's cluster stops answering; its partitions move to
//                their surviving in-sync replicas (fakes/kafka's controller) and the heal brings
//                it back. params: {broker: N}, or {topic, partition}: the broker that leads that
//                partition when the fault lands (looked up on the fakes/kafka cluster), which is
//                what "kill the partition leader" means. The broker chosen is journaled as a
//                decision (subject broker-down), so the timeline and checkers can name it.
#include "chaos/engine/environment.h"
#include "chaos/engine/fault_kind.h"
#include "fakes/kafka/fake_kafka.h"
#include "harness/backends/fake_services.h"
#include "harness/backends/hooks.h"
#include "harness/core/error.h"

namespace faultline::chaos {
namespace {

class BrokerDown final : public ActiveFault {
 public:
  explicit BrokerDown(std::unique_ptr<stack::HookFault> f) : fault_(std::move(f)) {}
  ~BrokerDown() override { heal(); }
  void heal() override {
    if (fault_) fault_->heal();
    fault_.reset();
  }

 private:
  std::unique_ptr<stack::HookFault> fault_;
};

std::unique_ptr<ActiveFault> inject_broker_down(Environment& env, const std::string& target,
                                                const nlohmann::json& p) {
  auto* h = env.handle(target);
  if (!h) throw Error("service '" + target + "' is not running");
  nlohmann::json decision = {{"target", target}};
  int broker = 0;
  if (p.contains("broker")) {
    broker = p["broker"].get<int>();
  } else {
    auto cluster = backends::fake_kafka_of(*h);
    if (!cluster)
      throw Error(
          "broker-down: finding a partition's leader needs the fakes/kafka cluster; "
          "name the broker with params {broker: N}");
    const std::string topic = p.value("topic", std::string("chaos-stream"));
    const int partition = p.value("partition", 0);
    const auto state = cluster->describe_topic(topic);
    if (partition < 0 || partition >= static_cast<int>(state.partitions.size()))
      throw Error("broker-down: topic " + topic + " has no partition " + std::to_string(partition));
    broker = state.partitions[static_cast<std::size_t>(partition)].leader;
    if (broker < 0)
      throw Error("broker-down: partition " + std::to_string(partition) + " of " + topic +
                  " has no leader to take down");
    decision["topic"] = topic;
    decision["partition"] = partition;
    decision["leader"] = broker;
  }
  decision["broker"] = broker;
  env.journal().append(event_kind::kDecision, "broker-down", decision);
  return std::make_unique<BrokerDown>(
      h->apply_hook(backends::hook::kBrokerDown, {{"broker", broker}}));
}

}  // namespace

FaultKind broker_down_fault_kind() {
  return {"broker-down",
          "hook",
          "kafka: a broker (params broker, or topic + partition: that partition's leader) stops "
          "answering; its partitions move to in-sync followers; the heal brings it back",
          {"broker", "topic", "partition"},
          false,
          backends::hook::kBrokerDown,
          &inject_broker_down};
}

}  // namespace faultline::chaos
