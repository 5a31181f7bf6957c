// REQ-INFRA-05 unit tests against the Kafka fake: topic placement (UT-INFRA-05.1), acks=all
// delivery in partition order (UT-INFRA-05.2), consumer lag as a Kafka exporter metric
// (UT-INFRA-05.3).
#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>

#include <set>

#include "harness/clients/kafka/lag_metrics.h"
#include "harness/core/clock.h"
#include "harness/core/journal.h"
#include "harness/ops/exposition.h"
#include "harness/testing/covers.h"
#include "harness/testing/process_testing.h"
#include "suites/req_infra_05/kafka_suite.h"

namespace faultline::suites::kafka {
namespace {

using fakes::kafka::FakeKafkaCluster;
using faultline::testing::wait_until;

// Leaders as a client sees them in the cluster's Metadata response: partition -> broker.
std::map<int, int> wire_leaders(const std::string& bootstrap, const std::string& topic) {
  char errstr[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  std::map<int, int> leaders;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; md->topic_cnt == 1 && i < md->topics[0].partition_cnt; ++i) {
      leaders[md->topics[0].partitions[i].id] = md->topics[0].partitions[i].leader;
    }
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return leaders;
}

TEST(KafkaCluster, CreateTopicPlacesReplicasOnDifferentBrokersFullyReplicated) {
  FAULTLINE_COVERS("UT-INFRA-05.1");
  RealClock clock;
  FakeKafkaCluster kafka(clock, {.brokers = 3});
  kafka.create_topic("orders", 6, 2);
  const auto topic = kafka.describe_topic("orders");
  ASSERT_EQ(topic.partitions.size(), 6u);
  std::map<int, int> replicas_per_broker;
  for (const auto& p : topic.partitions) {
    ASSERT_EQ(p.replicas.size(), 2u);
    EXPECT_NE(p.replicas[0], p.replicas[1]) << "partition " << p.partition;
    EXPECT_EQ(p.isr.size(), 2u);
    for (int r : p.replicas) ++replicas_per_broker[r];
  }
  EXPECT_TRUE(topic.fully_replicated());
  // 12 replicas over 3 brokers, evenly.
  EXPECT_EQ(replicas_per_broker, (std::map<int, int>{{1, 4}, {2, 4}, {3, 4}}));
  const auto health = kafka.health();
  EXPECT_EQ(health.under_replicated_partitions, 0);
  EXPECT_EQ(health.offline_partitions, 0);
  // What clients are told matches the controller.
  const auto leaders = wire_leaders(kafka.bootstrap(), "orders");
  ASSERT_EQ(leaders.size(), 6u);
  for (const auto& p : topic.partitions) EXPECT_EQ(leaders.at(p.partition), p.leader);
}

TEST(KafkaCluster, ConsumeDeliversEveryAcknowledgedMessageInPartitionOrder) {
  FAULTLINE_COVERS("UT-INFRA-05.2");
  RealClock clock;
  Journal journal(clock);
  FakeKafkaCluster kafka(clock, {.brokers = 3});
  kafka.create_topic("trades", 3, 2);
  kafka.add_group("settlement");
  clients::KafkaProducer producer(fast_producer(kafka.bootstrap()), &journal);
  for (int i = 0; i < 300; ++i) {
    producer.produce("trades", "trade-" + std::to_string(i), "qty=" + std::to_string(i));
  }
  ASSERT_EQ(producer.flush(30s), 0u);
  ASSERT_EQ(producer.acknowledged_count(), 300u);
  // acks=all with idempotence: within a partition, offsets follow the order of production.
  std::map<int, std::int64_t> last;
  for (const auto& r : producer.acknowledged()) {
    if (last.count(r.partition)) {
      EXPECT_EQ(r.offset, last[r.partition] + 1) << r.key;
    }
    last[r.partition] = r.offset;
  }
  // Every delivery report is journaled.
  int journaled_acks = 0;
  for (const auto& e : journal.events()) {
    if (e.kind == event_kind::kOpOk && e.fields.value("op", "") == "produce") ++journaled_acks;
  }
  EXPECT_EQ(journaled_acks, 300);

  Ledger ledger;
  ledger.acknowledge(producer.reports());
  clients::KafkaConsumer consumer(
      fast_consumer(kafka.bootstrap(), "settlement", "trades", /*subscribe=*/false));
  ASSERT_TRUE(drain(consumer, ledger)) << ledger.missing().size() << " missing";
  EXPECT_TRUE(ledger.misplaced().empty());
  EXPECT_EQ(ledger.reorderings(), 0);
}

TEST(KafkaCluster, ConsumerLagPerPartitionIsAKafkaExporterMetric) {
  FAULTLINE_COVERS("UT-INFRA-05.3");
  RealClock clock;
  FakeKafkaCluster kafka(clock, {.brokers = 3});
  kafka.create_topic("quotes", 3, 2);
  kafka.add_group("pricing");
  clients::KafkaProducer producer(fast_producer(kafka.bootstrap()));
  const auto produce = [&](int partition, int count) {
    for (int i = 0; i < count; ++i) producer.produce("quotes", "", "q", partition);
  };
  produce(0, 5);
  produce(1, 3);
  ASSERT_EQ(producer.flush(30s), 0u);
  clients::KafkaConsumer consumer(
      fast_consumer(kafka.bootstrap(), "pricing", "quotes", /*subscribe=*/false));
  // Nothing committed yet: the whole log is lag.
  auto lag = consumer.lag();
  ASSERT_EQ(lag.size(), 3u);
  EXPECT_EQ(lag[0].lag, 5);
  EXPECT_EQ(lag[1].lag, 3);
  EXPECT_EQ(lag[2].lag, 0);
  EXPECT_EQ(lag[0].committed, -1);
  // Consume and commit everything, then fall behind by 2 on partition 0.
  std::size_t seen = 0;
  ASSERT_TRUE(wait_until([&] {
    seen += consumer.poll(100ms).size();
    return seen == 8;
  }));
  ASSERT_FALSE(consumer.commit().has_value());
  produce(0, 2);
  ASSERT_EQ(producer.flush(30s), 0u);
  lag = consumer.lag();
  EXPECT_EQ(lag[0].committed, 5);
  EXPECT_EQ(lag[0].high_watermark, 7);
  EXPECT_EQ(lag[0].lag, 2);
  EXPECT_EQ(lag[1].lag, 0);

  const std::string text =
      ops::to_prometheus_text(clients::kafka_exporter_metrics(consumer.group(), lag));
  std::map<std::string, double> by_partition;
  for (const auto& family : ops::parse_prometheus_text(text)) {
    if (family.name != "kafka_consumergroup_lag") continue;
    for (const auto& s : family.samples) {
      EXPECT_EQ(s.labels.at("consumergroup"), "pricing");
      EXPECT_EQ(s.labels.at("topic"), "quotes");
      by_partition[s.labels.at("partition")] = s.value;
    }
  }
  EXPECT_EQ(by_partition, (std::map<std::string, double>{{"0", 2}, {"1", 0}, {"2", 0}})) << text;
  EXPECT_NE(text.find("kafka_consumergroup_lag_sum{consumergroup=\"pricing\",topic=\"quotes\"} 2"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace faultline::suites::kafka
