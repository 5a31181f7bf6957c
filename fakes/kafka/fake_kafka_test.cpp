// FakeKafkaCluster with real librdkafka clients: produce/consume, the controller's failover, and
// each fault control.
#include "fakes/kafka/fake_kafka.h"

#include <gtest/gtest.h>

#include <set>

#include "harness/clients/kafka/consumer.h"
#include "harness/clients/kafka/producer.h"
#include "harness/core/clock.h"
#include "harness/core/error.h"
#include "harness/core/journal.h"
#include "harness/testing/process_testing.h"

namespace faultline::fakes::kafka {
namespace {

using clients::DeliveryReport;
using clients::KafkaConsumer;
using clients::KafkaProducer;
using faultline::testing::wait_until;
using namespace std::chrono_literals;

clients::KafkaProducerOptions producer_options(const FakeKafkaCluster& kafka) {
  clients::KafkaProducerOptions o;
  o.bootstrap = kafka.bootstrap();
  o.linger = 1ms;
  o.retry_backoff = 20ms;
  o.reconnect_backoff = 20ms;
  o.metadata_refresh = 1s;
  return o;
}

clients::KafkaConsumerOptions consumer_options(const FakeKafkaCluster& kafka, std::string group,
                                               std::string topic) {
  clients::KafkaConsumerOptions o;
  o.bootstrap = kafka.bootstrap();
  o.group = std::move(group);
  o.topics = {std::move(topic)};
  o.reconnect_backoff = 20ms;
  o.metadata_refresh = 1s;
  o.heartbeat_interval = 300ms;
  return o;
}

// Reads until every key in `wanted` has been seen (bounded); returns the keys seen.
std::set<std::string> consume_keys(KafkaConsumer& consumer, const std::set<std::string>& wanted) {
  std::set<std::string> seen;
  wait_until(
      [&] {
        for (const auto& m : consumer.poll(100ms)) seen.insert(m.key);
        return std::includes(seen.begin(), seen.end(), wanted.begin(), wanted.end());
      },
      30s);
  return seen;
}

std::set<std::string> keys_of(const std::vector<DeliveryReport>& reports) {
  std::set<std::string> keys;
  for (const auto& r : reports) keys.insert(r.key);
  return keys;
}

TEST(FakeKafka, ProducesAndConsumesThroughARealClient) {
  RealClock clock;
  FakeKafkaCluster kafka(clock);
  const std::string bootstrap = kafka.bootstrap();
  EXPECT_EQ(std::count(bootstrap.begin(), bootstrap.end(), ','), 2) << bootstrap;
  kafka.create_topic("orders", 3, 2);
  kafka.add_group("g");
  KafkaProducer producer(producer_options(kafka));
  for (int i = 0; i < 50; ++i) producer.produce("orders", "k" + std::to_string(i), "v");
  ASSERT_EQ(producer.flush(30s), 0u);
  ASSERT_EQ(producer.acknowledged_count(), 50u);
  KafkaConsumer consumer(consumer_options(kafka, "g", "orders"));
  const auto wanted = keys_of(producer.acknowledged());
  EXPECT_EQ(consume_keys(consumer, wanted), wanted);
}

TEST(FakeKafka, ProducersAndConsumersFollowTheLeaderAwayFromALostBroker) {
  RealClock clock;
  Journal journal(clock);
  FakeKafkaCluster kafka(clock, {.brokers = 3, .journal = &journal});
  kafka.create_topic("t", 3, 2);
  kafka.add_group("g");
  KafkaProducer producer(producer_options(kafka));
  KafkaConsumer consumer(consumer_options(kafka, "g", "t"));
  for (int i = 0; i < 20; ++i) producer.produce("t", "a" + std::to_string(i), "v");
  ASSERT_EQ(producer.flush(30s), 0u);
  const int lost = kafka.describe_topic("t").partitions[0].leader;
  kafka.broker_down(lost);
  EXPECT_FALSE(kafka.broker_is_up(lost));
  for (const auto& p : kafka.describe_topic("t").partitions) {
    EXPECT_NE(p.leader, lost);
    EXPECT_NE(p.leader, -1);
  }
  EXPECT_NE(kafka.coordinator("g"), lost);
  for (int i = 0; i < 20; ++i) producer.produce("t", "b" + std::to_string(i), "v");
  ASSERT_EQ(producer.flush(30s), 0u);
  EXPECT_EQ(producer.acknowledged_count(), 40u);
  const auto wanted = keys_of(producer.acknowledged());
  EXPECT_EQ(consume_keys(consumer, wanted), wanted);
  EXPECT_FALSE(consumer.commit().has_value());
  kafka.broker_up(lost);
  EXPECT_TRUE(kafka.describe_topic("t").fully_replicated());
  bool journaled = false;
  for (const auto& e : journal.events()) journaled |= e.kind == event_kind::kFaultInject;
  EXPECT_TRUE(journaled);
}

TEST(FakeKafka, PushedErrorsAreRetriedOrFailTheMessage) {
  RealClock clock;
  FakeKafkaCluster kafka(clock);
  kafka.create_topic("t", 1, 2);
  KafkaProducer producer(producer_options(kafka));
  producer.produce("t", "warm", "v");
  ASSERT_EQ(producer.flush(30s), 0u);
  // Retriable: librdkafka retries and the message is acknowledged once.
  kafka.push_errors(api_key::kProduce, {parse_error_code("NOT_LEADER_FOR_PARTITION"),
                                        parse_error_code("REQUEST_TIMED_OUT")});
  producer.produce("t", "retried", "v");
  ASSERT_EQ(producer.flush(30s), 0u);
  // Not retriable: the message fails and is reported as not written.
  kafka.push_errors(api_key::kProduce, {parse_error_code("TOPIC_AUTHORIZATION_FAILED")});
  producer.produce("t", "refused", "v");
  ASSERT_EQ(producer.flush(30s), 0u);
  const auto reports = producer.reports();
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[1].outcome, DeliveryReport::Outcome::acknowledged);
  EXPECT_EQ(reports[2].outcome, DeliveryReport::Outcome::failed) << reports[2].error;
  EXPECT_EQ(reports[2].error, "TOPIC_AUTHORIZATION_FAILED");
  EXPECT_EQ(reports[1].offset, reports[0].offset + 1);  // retried, not duplicated
}

TEST(FakeKafka, MovedLeaderAndRttKeepTheStreamFlowing) {
  RealClock clock;
  FakeKafkaCluster kafka(clock);
  kafka.create_topic("t", 1, 3);
  KafkaProducer producer(producer_options(kafka));
  producer.produce("t", "before", "v");
  ASSERT_EQ(producer.flush(30s), 0u);
  const int old_leader = kafka.describe_topic("t").partitions[0].leader;
  const int new_leader = old_leader % 3 + 1;
  kafka.move_leader("t", 0, new_leader);
  EXPECT_EQ(kafka.describe_topic("t").partitions[0].leader, new_leader);
  kafka.set_rtt(-1, 50ms);
  producer.produce("t", "after", "v");
  ASSERT_EQ(producer.flush(30s), 0u);
  kafka.set_rtt(-1, 0ms);
  EXPECT_EQ(producer.acknowledged_count(), 2u);
  EXPECT_EQ(kafka.elect_preferred_leaders(), 1);
}

TEST(FakeKafka, RejectsBadRequestsWithClearErrors) {
  RealClock clock;
  EXPECT_THROW(FakeKafkaCluster(clock, {.brokers = 0}), InputError);
  FakeKafkaCluster kafka(clock, {.brokers = 2});
  EXPECT_THROW(kafka.create_topic("t", 1, 3), InputError);
  kafka.create_topic("t", 1, 1);
  EXPECT_THROW(kafka.create_topic("t", 1, 1), InputError);
  EXPECT_THROW(kafka.broker_down(3), InputError);
  EXPECT_THROW(kafka.set_rtt(7, 1ms), InputError);
  EXPECT_THROW(kafka.describe_topic("nope"), InputError);
  EXPECT_THROW(parse_api_key("Produse"), InputError);
  EXPECT_EQ(parse_api_key("produce"), 0);
  EXPECT_EQ(parse_api_key("3"), 3);
  EXPECT_THROW(parse_error_code("NOT_A_KAFKA_ERROR"), InputError);
  EXPECT_EQ(error_name(parse_error_code("_TRANSPORT")), "_TRANSPORT");
  try {
    parse_api_key("Produse");
  } catch (const InputError& e) {
    EXPECT_NE(e.problem().find("did you mean 'Produce'"), std::string::npos) << e.problem();
  }
}

}  // namespace
}  // namespace faultline::fakes::kafka
