// FakeKafkaCluster: N Kafka brokers on loopback, over librdkafka's mock cluster (rdkafka_mock.h),
// with the controller a real cluster has and the mock lacks.
//
// The mock speaks the Kafka protocol (Metadata, Produce with idempotence, Fetch, ListOffsets,
// consumer groups with commits...), so librdkafka clients and kcat run against bootstrap()
// unchanged. The mock keeps one log per partition and never moves a leader by itself: a broker it
// takes down simply stops answering. This wrapper is the controller: it owns the replica placement
// of every topic it created (replication factor R: R different brokers per partition, spread
// round-robin as Kafka places them), the in-sync replica set (ISR) of each partition, and the
// leaders. When a broker goes down it leaves every ISR it was in (unless it was the last member,
// as in Kafka), and each partition it led gets a new leader from the surviving ISR — or none: the
// partition is offline and writes to it fail. When a broker comes back, an offline partition whose
// last in-sync replica it was is led again, and it rejoins the ISR of the partitions it follows
// (catching up is instant: the mock shares one log between the replicas). Group coordinators of
// the groups named with add_group() move the same way. No unclean leader election; no automatic
// preferred-leader rebalance (elect_preferred_leaders() does it on demand).
//
// Faults: broker down/up, RTT per broker, errors pushed per Kafka API key (cluster-wide or on one
// broker), moving a partition leader. Each fault and each leader change is journaled when a
// Journal is given. What the mock cannot emulate is listed in fakes/kafka/README.md.
//
// Thread safety: every member function may be called from any thread (one lock; the mock applies
// each change on its own thread before the call returns).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/core/clock.h"

namespace faultline {
class Journal;
}

namespace faultline::fakes::kafka {

struct FakeKafkaOptions {
  int brokers = 3;             // 1..16; broker ids are 1..brokers
  Journal* journal = nullptr;  // faults and leader elections are appended here when set
};

// Kafka protocol API keys, for push_errors().
namespace api_key {
inline constexpr int kProduce = 0;
inline constexpr int kFetch = 1;
inline constexpr int kListOffsets = 2;
inline constexpr int kMetadata = 3;
inline constexpr int kOffsetCommit = 8;
inline constexpr int kOffsetFetch = 9;
inline constexpr int kFindCoordinator = 10;
inline constexpr int kJoinGroup = 11;
inline constexpr int kHeartbeat = 12;
inline constexpr int kLeaveGroup = 13;
inline constexpr int kSyncGroup = 14;
inline constexpr int kApiVersions = 18;
inline constexpr int kInitProducerId = 22;
}  // namespace api_key

// A Kafka API key from its protocol name ("Produce", "Fetch", "Metadata"...) or its number;
// throws InputError (with a did-you-mean) otherwise.
int parse_api_key(const std::string& name);
// A Kafka error code from its name ("NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT", or
// librdkafka's
// "_TRANSPORT" to drop the connection) or its number; throws InputError otherwise.
int parse_error_code(const std::string& name);
std::string error_name(int code);

struct PartitionState {
  int partition = 0;
  std::vector<int> replicas;  // placement; the first is the preferred leader
  std::vector<int> isr;       // in-sync replicas, in placement order
  int leader = -1;            // -1: offline (no in-sync replica is up)
};

struct TopicState {
  std::string name;
  int replication = 0;
  std::vector<PartitionState> partitions;
  // Every partition has all its replicas in sync.
  bool fully_replicated() const;
};

struct ClusterHealth {
  std::vector<int> brokers_up;
  std::vector<int> brokers_down;
  int partitions = 0;
  int offline_partitions = 0;           // no leader: writes to them fail
  int under_replicated_partitions = 0;  // ISR smaller than the replica set
  // Time since the longest-out-of-sync replica fell out of its ISR (0 when all are in sync), on
  // the cluster's Clock: the replication lag the seed bounds at 5 s after a broker rejoins.
  Duration max_replication_lag{0};
};

class FakeKafkaCluster {
 public:
  // Starts the brokers. Throws InputError for a bad option, Error if the mock cannot start.
  explicit FakeKafkaCluster(Clock& clock, FakeKafkaOptions options = {});
  ~FakeKafkaCluster();
  FakeKafkaCluster(const FakeKafkaCluster&) = delete;
  FakeKafkaCluster& operator=(const FakeKafkaCluster&) = delete;

  // "127.0.0.1:P1,127.0.0.1:P2,..." — bootstrap.servers for clients and kcat -b.
  std::string bootstrap() const;
  int broker_count() const;

  // Creates a topic (1..1000 partitions, replication 1..brokers). Throws InputError for bad
  // arguments or an existing name.
  void create_topic(const std::string& name, int partitions, int replication);
  std::vector<std::string> topics() const;
  // Throws InputError for an unknown topic.
  TopicState describe_topic(const std::string& name) const;

  // Makes this wrapper the controller of consumer group `group`'s coordinator: it is placed on an
  // up broker and moved when that broker goes down, as the leader of its __consumer_offsets
  // partition would be. Groups not added keep the mock's hashed coordinator, down or not.
  void add_group(const std::string& group);
  int coordinator(const std::string& group) const;  // -1 if not added
  std::map<std::string, int> groups() const;        // group -> coordinator, for those added

  // Faults. Broker ids are 1..broker_count(); anything else throws InputError. Idempotent.
  void broker_down(int broker);
  void broker_up(int broker);
  bool broker_is_up(int broker) const;
  // Adds `rtt` to every response of `broker` (-1: every broker); 0 heals.
  void set_rtt(int broker, std::chrono::milliseconds rtt);
  // The next errors.size() requests with this API key fail with these error codes, in order
  // (cluster-wide). clear_errors() drops what is left.
  void push_errors(int api_key, const std::vector<int>& errors);
  // Same on one broker, each error with an RTT; broker errors win over cluster errors. The mock
  // cannot drop them: they are used up by that broker's next requests of this API key.
  void push_broker_errors(int broker, int api_key, const std::vector<int>& errors,
                          std::chrono::milliseconds rtt = std::chrono::milliseconds(0));
  void clear_errors(int api_key);  // cluster-wide errors only
  // Moves the leader of one partition to `broker`, which must be an up, in-sync replica (as
  // kafka-leader-election allows); throws InputError otherwise.
  void move_leader(const std::string& topic, int partition, int broker);
  // Gives every partition its preferred leader back where that replica is up and in sync.
  // Returns the number of leaders moved.
  int elect_preferred_leaders();
  // Heals every fault: all brokers up, no RTT, no pushed errors (for every API key above).
  void heal_all();

  ClusterHealth health() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline::fakes::kafka
