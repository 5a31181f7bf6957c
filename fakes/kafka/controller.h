// KafkaController: the part of a Kafka controller that librdkafka's mock cluster lacks — replica
// placement, in-sync replica sets, leader election on broker loss and return, and the placement
// of group coordinators. A pure state machine: it decides, FakeKafkaCluster applies the decisions
// to the mock. Kept apart so the election rules are unit-tested without sockets.
//
// Rules (Kafka's, with unclean.leader.election.enable=false):
// - Placement: partition p of the k-th topic created gets replicas on brokers
//   (k + p + i) mod N, i = 0..R-1 — R different brokers; the first is the preferred leader.
// - A broker going down leaves every ISR it is in, except where it is the last member (Kafka keeps
//   the last one). A partition it led gets as leader the first up member of the remaining ISR in
//   placement order, or none (offline).
// - A broker coming back leads the offline partitions whose ISR it holds, then rejoins the ISR of
//   every partition it replicates that has a leader (catch-up is instant over the mock's log).
// - A group coordinator on a broker going down moves to the next up broker; a coordinator left on
//   a down broker (none was up) moves to the first broker that comes back.
//
// Thread safety: none; FakeKafkaCluster serializes access.
#pragma once

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "fakes/kafka/fake_kafka.h"
#include "harness/core/clock.h"

namespace faultline::fakes::kafka {

struct LeaderChange {
  std::string topic;
  int partition = 0;
  int from = -1;  // -1: was offline
  int to = -1;    // -1: now offline
};

struct CoordinatorChange {
  std::string group;
  int from = -1;
  int to = -1;
};

struct ControllerDecisions {
  std::vector<LeaderChange> leaders;
  std::vector<CoordinatorChange> coordinators;
  std::vector<std::pair<std::string, int>> isr_changes;  // (topic, partition) whose ISR changed
};

class KafkaController {
 public:
  explicit KafkaController(int brokers);

  int brokers() const { return brokers_; }
  // Throws InputError for bad arguments or an existing name.
  const TopicState& add_topic(const std::string& name, int partitions, int replication);
  bool has_topic(const std::string& name) const { return topics_.count(name) != 0; }
  const TopicState& topic(const std::string& name) const;  // throws InputError if unknown
  std::vector<std::string> topic_names() const;

  int add_group(const std::string& group);  // returns the coordinator; idempotent
  int coordinator(const std::string& group) const;
  const std::map<std::string, int>& groups() const { return coordinators_; }

  bool is_up(int broker) const { return up_.count(broker) != 0; }
  ControllerDecisions broker_down(int broker, TimePoint now);
  ControllerDecisions broker_up(int broker, TimePoint now);
  // Throws InputError unless `broker` is an up, in-sync replica of the partition.
  LeaderChange move_leader(const std::string& topic, int partition, int broker);
  std::vector<LeaderChange> elect_preferred_leaders();

  ClusterHealth health(TimePoint now) const;

 private:
  PartitionState& partition(const std::string& topic, int partition);
  void check_broker(int broker) const;

  int brokers_;
  std::set<int> up_;
  std::map<std::string, TopicState> topics_;
  int topics_created_ = 0;
  std::map<std::string, int> coordinators_;
  // When each out-of-sync replica left its ISR: (topic, partition, broker) -> time.
  std::map<std::tuple<std::string, int, int>, TimePoint> out_of_sync_since_;
};

}  // namespace faultline::fakes::kafka
