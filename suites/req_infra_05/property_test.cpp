// PT-INFRA-05.1 against the Kafka fake: over random sequences of produce, broker-down and
// broker-up (at most one broker down at a time: "any single broker fails"), no message
// acknowledged with acks=all is lost, offsets within a partition only increase, consumer lag is
// never negative, and replication lag is back under 5 s once the broker rejoins.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <map>

#include "harness/core/clock.h"
#include "harness/testing/covers.h"
#include "harness/testing/property.h"
#include "suites/req_infra_05/kafka_suite.h"

namespace faultline::suites::kafka {
namespace {

using clients::DeliveryReport;
using fakes::kafka::FakeKafkaCluster;

struct Step {
  enum Kind { produce = 0, broker_down = 1, broker_up = 2 };
  Kind kind = produce;
  int arg = 1;  // messages to produce, or a broker id
};

std::string describe(const Step& s) {
  static const char* names[] = {"produce", "broker_down", "broker_up"};
  return std::string(names[s.kind]) + "(" + std::to_string(s.arg) + ")";
}

rc::Gen<Step> step_gen() {
  return rc::gen::oneOf(rc::gen::map(rc::gen::inRange(1, 25),
                                     [](int n) {
                                       return Step{Step::produce, n};
                                     }),
                        rc::gen::map(rc::gen::inRange(1, 4),
                                     [](int b) {
                                       return Step{Step::broker_down, b};
                                     }),
                        rc::gen::map(rc::gen::inRange(1, 4), [](int b) {
                          return Step{Step::broker_up, b};
                        }));
}

TEST(KafkaProperty, NoAcknowledgedMessageIsLostWhenAnySingleBrokerFails) {
  FAULTLINE_COVERS("PT-INFRA-05.1");
  RealClock clock;
  // One long-running cluster for every case; each case gets a topic and a group of its own and
  // starts with every broker up.
  FakeKafkaCluster kafka(clock, {.brokers = 3});
  // One long-lived producer too, as an application has (an idempotent producer takes a second to
  // get its producer id); each case reads only the reports of its own topic.
  clients::KafkaProducer producer(fast_producer(kafka.bootstrap()));
  int case_number = 0;
  faultline::testing::check_property([&] {
    const auto steps = *rc::gen::resize(12, rc::gen::container<std::vector<Step>>(step_gen()));
    const std::string n = std::to_string(++case_number);
    const std::string topic = "pt-" + n, group = "pt-reader-" + n;
    kafka.heal_all();
    kafka.create_topic(topic, 3, 2);
    kafka.add_group(group);
    int down = -1, produced = 0;
    for (const Step& s : steps) {
      RC_LOG() << describe(s) << "\n";
      if (s.kind == Step::produce) {
        for (int i = 0; i < s.arg; ++i) {
          producer.produce(topic, "m" + std::to_string(produced++), "payload");
        }
      } else if (s.kind == Step::broker_down && down == -1) {
        kafka.broker_down(s.arg);
        down = s.arg;
        RC_ASSERT(kafka.health().offline_partitions == 0);
      } else if (s.kind == Step::broker_up && down == s.arg) {
        kafka.broker_up(s.arg);
        down = -1;
        const auto health = kafka.health();
        RC_ASSERT(health.max_replication_lag < 5s);
        RC_ASSERT(health.under_replicated_partitions == 0);
      }
    }
    // Producers continue: with one broker down every message is still acknowledged.
    RC_ASSERT(producer.flush(30s) == 0u);
    std::vector<DeliveryReport> reports;
    for (auto& r : producer.reports()) {
      if (r.topic == topic) reports.push_back(std::move(r));
    }
    RC_ASSERT(reports.size() == static_cast<std::size_t>(produced));
    for (const auto& r : reports) RC_ASSERT(r.outcome == DeliveryReport::Outcome::acknowledged);
    // Offsets within a partition only increase, in the order the messages were produced.
    std::map<int, std::pair<std::uint64_t, std::int64_t>> last;  // partition -> (id, offset)
    auto by_id = reports;
    std::sort(by_id.begin(), by_id.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    for (const auto& r : by_id) {
      if (last.count(r.partition)) RC_ASSERT(r.offset > last[r.partition].second);
      last[r.partition] = {r.id, r.offset};
    }
    // Every acknowledged message is consumed afterwards — while the broker is still down, if one
    // is — at the partition and offset it was acknowledged with.
    Ledger ledger;
    ledger.acknowledge(reports);
    clients::KafkaConsumer reader(fast_consumer(kafka.bootstrap(), group, topic, false));
    RC_ASSERT(drain(reader, ledger));
    RC_ASSERT(ledger.misplaced().empty());
    for (const auto& l : reader.lag()) {
      RC_ASSERT(l.lag >= 0);
      RC_ASSERT(l.lag == 0);  // everything read was committed
    }
    if (down != -1) {
      kafka.broker_up(down);
      RC_ASSERT(kafka.health().max_replication_lag < 5s);
    }
    RC_ASSERT(kafka.describe_topic(topic).fully_replicated());
  });
}

}  // namespace
}  // namespace faultline::suites::kafka
