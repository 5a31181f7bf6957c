// KafkaController: placement, ISR and leader election rules, without sockets.
#include "fakes/kafka/controller.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "harness/core/error.h"

namespace faultline::fakes::kafka {
namespace {

TimePoint at(int seconds) {
  return TimePoint(std::chrono::seconds(seconds));
}

TEST(KafkaController, PlacesReplicasOnDifferentBrokersAndSpreadsLeaders) {
  KafkaController c(3);
  const TopicState& t = c.add_topic("orders", 6, 2);
  std::set<int> leaders;
  for (const auto& p : t.partitions) {
    ASSERT_EQ(p.replicas.size(), 2u);
    EXPECT_NE(p.replicas[0], p.replicas[1]);
    EXPECT_EQ(p.isr, p.replicas);
    EXPECT_EQ(p.leader, p.replicas[0]);
    leaders.insert(p.leader);
  }
  EXPECT_EQ(leaders.size(), 3u);
  EXPECT_TRUE(t.fully_replicated());
}

TEST(KafkaController, RejectsBadTopics) {
  KafkaController c(3);
  EXPECT_THROW(c.add_topic("t", 0, 1), InputError);
  EXPECT_THROW(c.add_topic("t", 1, 4), InputError);
  EXPECT_THROW(c.add_topic("bad name", 1, 1), InputError);
  c.add_topic("t", 1, 1);
  EXPECT_THROW(c.add_topic("t", 1, 1), InputError);
  EXPECT_THROW(KafkaController(0), InputError);
  EXPECT_THROW(c.broker_down(4, at(0)), InputError);
}

TEST(KafkaController, ElectsAnInSyncFollowerWhenTheLeaderIsLost) {
  KafkaController c(3);
  c.add_topic("t", 3, 2);  // p0: 1,2  p1: 2,3  p2: 3,1
  const auto d = c.broker_down(1, at(10));
  ASSERT_EQ(d.leaders.size(), 1u);
  EXPECT_EQ(d.leaders[0].partition, 0);
  EXPECT_EQ(d.leaders[0].to, 2);
  const auto& t = c.topic("t");
  EXPECT_EQ(t.partitions[0].isr, std::vector<int>({2}));
  EXPECT_EQ(t.partitions[2].isr, std::vector<int>({3}));
  EXPECT_EQ(t.partitions[2].leader, 3);
  auto h = c.health(at(12));
  EXPECT_EQ(h.offline_partitions, 0);
  EXPECT_EQ(h.under_replicated_partitions, 2);
  EXPECT_EQ(h.max_replication_lag, std::chrono::seconds(2));
  c.broker_up(1, at(20));
  h = c.health(at(21));
  EXPECT_EQ(h.under_replicated_partitions, 0);
  EXPECT_EQ(h.max_replication_lag, Duration::zero());
  EXPECT_EQ(t.partitions[0].leader, 2);  // no automatic rebalance
  EXPECT_EQ(c.elect_preferred_leaders().size(), 1u);
  EXPECT_EQ(t.partitions[0].leader, 1);
}

TEST(KafkaController, LosingEveryReplicaTakesThePartitionOfflineUntilTheLastInSyncOneReturns) {
  KafkaController c(3);
  c.add_topic("t", 1, 2);  // p0: 1,2
  c.broker_down(1, at(0));
  c.broker_down(2, at(1));
  const auto& p = c.topic("t").partitions[0];
  EXPECT_EQ(p.leader, -1);
  EXPECT_EQ(p.isr, std::vector<int>({2}));  // Kafka keeps the last member
  EXPECT_EQ(c.health(at(2)).offline_partitions, 1);
  // Broker 1 is not in sync: no unclean election.
  c.broker_up(1, at(3));
  EXPECT_EQ(p.leader, -1);
  c.broker_up(2, at(4));
  EXPECT_EQ(p.leader, 2);
  EXPECT_EQ(p.isr, std::vector<int>({1, 2}));
}

TEST(KafkaController, MovesLeadersOnlyToUpInSyncReplicas) {
  KafkaController c(3);
  c.add_topic("t", 1, 2);  // p0: 1,2
  EXPECT_THROW(c.move_leader("t", 0, 3), InputError);
  EXPECT_THROW(c.move_leader("t", 1, 2), InputError);
  EXPECT_THROW(c.move_leader("u", 0, 2), InputError);
  EXPECT_EQ(c.move_leader("t", 0, 2).to, 2);
  c.broker_down(1, at(0));
  EXPECT_THROW(c.move_leader("t", 0, 1), InputError);
}

TEST(KafkaController, MovesGroupCoordinatorsOffALostBroker) {
  KafkaController c(3);
  const int first = c.add_group("g");
  c.broker_down(first, at(0));
  const int second = c.coordinator("g");
  EXPECT_NE(second, first);
  EXPECT_TRUE(c.is_up(second));
  for (int b = 1; b <= 3; ++b) c.broker_down(b, at(1));
  EXPECT_FALSE(c.is_up(c.coordinator("g")));
  c.broker_up(first, at(2));
  EXPECT_EQ(c.coordinator("g"), first);
}

}  // namespace
}  // namespace faultline::fakes::kafka
