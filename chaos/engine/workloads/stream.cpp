// stream: the trading application's event stream — every step produces a batch of messages with
// acks=all (idempotent producer, harness/clients/kafka), one per partition in turn, waits for
// their delivery reports, then lets its consumer group read until every acknowledged message has
// been consumed (bounded by catch_up_ms). After the method it drains what is left.
//
// Journal (subject: the workload): op.invoke / op.ok / op.fail / op.info per produced message
// ({"op":"produce","id","partition"}, the ok carrying the acknowledged offset — the delivery
// report), op.ok per message consumed the first time ({"op":"consume","id","partition","offset"};
// redeliveries after a rebalance are counted, not journaled), and per step an op.invoke/op.ok
// {"op":"poll","lag"} — op.fail with reason "behind" when the consumers did not catch up within
// the bound. Lag is the number of acknowledged messages not yet consumed. A "kafka.leaders" event
// records the partition leaders whenever the cluster's controller moved them.
//
// Kafka goes straight to the bootstrap brokers, not through the engine's fault proxy: brokers
// advertise their own addresses in metadata, so clients would leave a proxy after bootstrap
// anyway. Kafka faults are the cluster's hooks (broker-down).
//
// Time: the Kafka cluster (librdkafka's mock, fakes/kafka) runs on real time whatever the
// backend. The workload waits for it on the runner's thread, not through the OpDriver: a wait on
// the mock costs no simulated time, and no simulated timer fires meanwhile. Everything journaled
// is decided before the step ends (reports and consumed messages sorted by id), so in fake mode
// the same seed gives the same journal.
//
// The topic is created on the cluster with the scenario's partitions and replication
// (fakes/kafka has no CreateTopics API, so this needs the fakes/kafka cluster: fake and local
// backends). min_insync is recorded with the topic; the mock does not enforce it (see
// fakes/kafka/README.md).
#include <algorithm>
#include <chrono>
#include <set>

#include "chaos/engine/environment.h"
#include "chaos/engine/workload.h"
#include "fakes/kafka/fake_kafka.h"
#include "harness/backends/fake_services.h"
#include "harness/clients/kafka/consumer.h"
#include "harness/clients/kafka/producer.h"
#include "harness/core/error.h"

namespace faultline::chaos {
namespace {

using Steady = std::chrono::steady_clock;

class StreamWorkload final : public Workload {
 public:
  StreamWorkload(const WorkloadSpec& spec, Environment& env)
      : Workload(spec.name),
        env_(env),
        target_(spec.target),
        topic_(spec.params.value("topic", std::string("chaos-stream"))),
        group_(spec.params.value("group", std::string("chaos-stream"))),
        partitions_(spec.params.value("partitions", 3)),
        replication_(spec.params.value("replication", 3)),
        min_insync_(spec.params.value("min_insync", 2)),
        batch_(spec.params.value("batch", partitions_)),
        catch_up_(std::chrono::milliseconds(spec.params.value("catch_up_ms", 20'000))),
        delivery_timeout_(
            std::chrono::milliseconds(spec.params.value("delivery_timeout_ms", 30'000))),
        window_(static_cast<std::size_t>(spec.params.value("window", 5))) {
    if (partitions_ < 1 || replication_ < 1 || min_insync_ < 1 || min_insync_ > replication_ ||
        batch_ < 1)
      throw Error("stream: needs partitions >= 1, 1 <= min_insync <= replication, batch >= 1");
  }

  ~StreamWorkload() override { close(); }

  void setup() override {
    auto* h = env_.handle(target_);
    if (!h) throw Error("stream: service '" + target_ + "' is not running");
    cluster_ = backends::fake_kafka_of(*h);
    if (!cluster_)
      throw Error("stream: service '" + target_ +
                  "' is not a fakes/kafka cluster (fake and local backends): the topic cannot be "
                  "created with its replication there");
    const auto& ex = h->endpoint().exports;
    const auto it = ex.find("KAFKA_BOOTSTRAP");
    const std::string bootstrap =
        it != ex.end() ? it->second : h->endpoint().host + ":" + std::to_string(h->endpoint().port);
    cluster_->create_topic(topic_, partitions_, replication_);
    cluster_->add_group(group_);
    leaders_ = leaders();
    env_.journal().append("workload.setup", name(),
                          {{"topic", topic_},
                           {"partitions", partitions_},
                           {"replication", replication_},
                           {"min_insync", min_insync_},
                           {"min_insync_enforced", false},
                           {"leaders", leaders_},
                           {"group", group_}});

    clients::KafkaProducerOptions po;
    po.bootstrap = bootstrap;
    po.client_id = name() + "-producer";
    po.delivery_timeout = delivery_timeout_;
    po.metadata_refresh = std::chrono::seconds(1);
    producer_ = std::make_unique<clients::KafkaProducer>(po);
    clients::KafkaConsumerOptions co;
    co.bootstrap = bootstrap;
    co.group = group_;
    co.topics = {topic_};
    co.client_id = name() + "-consumer";
    co.metadata_refresh = std::chrono::seconds(1);
    consumer_ = std::make_unique<clients::KafkaConsumer>(co);
    // The group's first join takes seconds on the mock: wait for it here, so the first step
    // already reads.
    const auto deadline = Steady::now() + std::chrono::seconds(30);
    for (;;) {
      for (const auto& m : consumer_->poll(std::chrono::milliseconds(200)))
        if (id_of(m) >= 0) consumed_.insert(id_of(m));  // none: nothing was produced yet
      const auto a = consumer_->assignment();
      const auto at = a.find(topic_);
      if (at != a.end() && static_cast<int>(at->second.size()) == partitions_) break;
      if (Steady::now() > deadline)
        throw Error("stream: the consumer group '" + group_ +
                    "' was not assigned every partition of " + topic_ + " within 30 s");
    }
  }

  void step() override {
    // Leadership as the cluster's controller has it (it moves only when a fault lands or heals,
    // between steps): journaled when it changed, so the failover shows in the journal.
    if (auto now = leaders(); now != leaders_) {
      leaders_ = now;
      env_.journal().append("kafka.leaders", name(), {{"topic", topic_}, {"leaders", leaders_}});
    }
    produce_batch();
    catch_up(catch_up_);
  }

  void finish() override {
    if (consumer_) catch_up(catch_up_);
    close();
  }

  std::map<std::string, double> metrics() const override {
    return {{"produced", static_cast<double>(produced_)},
            {"acked", static_cast<double>(acked_.size())},
            {"consumed", static_cast<double>(consumed_.size())},
            {"lag", static_cast<double>(lag())},
            {"error_rate", window_.error_rate()},
            {"duplicates", static_cast<double>(duplicates_)},
            {"commit_failures", static_cast<double>(commit_failures_)}};
  }

 private:
  static std::int64_t id_of(const clients::ConsumedMessage& m) {
    try {
      return std::stoll(m.key);
    } catch (const std::exception&) {
      return -1;  // not ours
    }
  }

  // The leader of each partition (-1: offline).
  nlohmann::json leaders() const {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : cluster_->describe_topic(topic_).partitions) out.push_back(p.leader);
    return out;
  }

  std::size_t lag() const {
    std::size_t n = 0;
    for (auto id : acked_) n += consumed_.count(id) ? 0 : 1;
    return n;
  }

  void produce_batch() {
    auto& j = env_.journal();
    for (int k = 0; k < batch_; ++k) {
      const std::int64_t id = ++next_id_;
      const int partition = static_cast<int>((id - 1) % partitions_);
      j.append(event_kind::kOpInvoke, name(),
               {{"op", "produce"}, {"id", id}, {"partition", partition}});
      ++produced_;
      try {
        producer_->produce(topic_, std::to_string(id), "order-event-" + std::to_string(id),
                           partition);
      } catch (const std::exception&) {
        window_.add(false);
        j.append(event_kind::kOpFail, name(),
                 {{"op", "produce"}, {"id", id}, {"reason", "not-queued"}});
      }
    }
    producer_->flush(delivery_timeout_ + std::chrono::seconds(2));
    // This step's reports (and any late one of an earlier step), in id order.
    const auto reports = producer_->reports();
    std::vector<clients::DeliveryReport> fresh(reports.begin() + static_cast<long>(reports_seen_),
                                               reports.end());
    reports_seen_ = reports.size();
    std::sort(fresh.begin(), fresh.end(),
              [](const auto& a, const auto& b) { return std::stoll(a.key) < std::stoll(b.key); });
    for (const auto& r : fresh) {
      const std::int64_t id = std::stoll(r.key);
      nlohmann::json f = {{"op", "produce"}, {"id", id}, {"partition", r.partition}};
      const bool ok = r.outcome == clients::DeliveryReport::Outcome::acknowledged;
      window_.add(ok);
      if (ok) {
        acked_.insert(id);
        f["offset"] = r.offset;
        j.append(event_kind::kOpOk, name(), f);
      } else {
        f["reason"] = r.error;
        j.append(r.outcome == clients::DeliveryReport::Outcome::failed ? event_kind::kOpFail
                                                                       : event_kind::kOpInfo,
                 name(), f);
      }
    }
  }

  // Reads until every acknowledged message has been consumed or `bound` (real time) passes.
  void catch_up(Duration bound) {
    auto& j = env_.journal();
    j.append(event_kind::kOpInvoke, name(), {{"op", "poll"}});
    std::vector<clients::ConsumedMessage> fresh;
    const auto deadline = Steady::now() + bound;
    while (lag() > 0 && Steady::now() < deadline) {
      for (auto& m : consumer_->poll(std::chrono::milliseconds(100))) {
        const std::int64_t id = id_of(m);
        if (id < 0) continue;
        if (consumed_.insert(id).second)
          fresh.push_back(std::move(m));
        else
          ++duplicates_;
      }
    }
    if (!fresh.empty() && consumer_->commit()) ++commit_failures_;
    std::sort(fresh.begin(), fresh.end(),
              [](const auto& a, const auto& b) { return id_of(a) < id_of(b); });
    for (const auto& m : fresh)
      j.append(
          event_kind::kOpOk, name(),
          {{"op", "consume"}, {"id", id_of(m)}, {"partition", m.partition}, {"offset", m.offset}});
    const std::size_t behind = lag();
    nlohmann::json f = {{"op", "poll"}, {"consumed", fresh.size()}, {"lag", behind}};
    if (behind > 0) f["reason"] = "behind";
    j.append(behind > 0 ? event_kind::kOpFail : event_kind::kOpOk, name(), f);
  }

  void close() {
    if (consumer_) consumer_->close();
    consumer_.reset();
    producer_.reset();
  }

  Environment& env_;
  std::string target_, topic_, group_;
  int partitions_, replication_, min_insync_, batch_;
  Duration catch_up_, delivery_timeout_;
  std::shared_ptr<fakes::kafka::FakeKafkaCluster> cluster_;
  nlohmann::json leaders_;
  std::unique_ptr<clients::KafkaProducer> producer_;
  std::unique_ptr<clients::KafkaConsumer> consumer_;
  std::int64_t next_id_ = 0;
  std::size_t produced_ = 0, reports_seen_ = 0, duplicates_ = 0, commit_failures_ = 0;
  std::set<std::int64_t> acked_, consumed_;
  OutcomeWindow window_;
};

}  // namespace

std::unique_ptr<Workload> make_stream_workload(const WorkloadSpec& spec, Environment& env) {
  return std::make_unique<StreamWorkload>(spec, env);
}

}  // namespace faultline::chaos
