// KafkaConsumer: a librdkafka consumer in a consumer group, committing what it has processed,
// and the consumer lag per partition as Kafka exporter reports it.
//
// Offsets are committed explicitly (enable.auto.commit=false): commit() stores the position after
// the last message poll() returned on each partition, synchronously, so "committed" means
// "processed". A new group starts from the earliest offset (auto.offset.reset=earliest).
// Consumed messages and commits are journaled, subject `client_id`, fields {"op":"consume",...}
// and {"op":"commit",...}.
//
// lag() is what kafka_exporter's kafka_consumergroup_lag reports: for each partition of the
// subscribed topics, high watermark minus the group's committed offset (or minus the low
// watermark when the group has committed nothing there). consumer_lag_metrics() turns it into
// that metric family for the MonitoringService's exposition.
//
// Thread safety: poll(), commit() and close() from one thread at a time; lag(), assignment() and
// the accessors from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/clock.h"

namespace faultline {
class Journal;
}

namespace faultline::clients {

struct KafkaConsumerOptions {
  std::string bootstrap;
  std::string group;                // group.id, required
  std::vector<std::string> topics;  // subscription, required
  // false: a standalone consumer — every partition of `topics` (as they are at construction) is
  // assigned to it at once, with no group membership and no rebalance (so no join delay); it
  // still commits under `group` and lag() reads the group's offsets. For checkers that read a
  // whole log back.
  bool subscribe = true;
  std::string client_id = "faultline-consumer";
  Duration session_timeout = std::chrono::seconds(6);            // session.timeout.ms
  Duration heartbeat_interval = std::chrono::milliseconds(500);  // heartbeat.interval.ms
  Duration metadata_refresh = std::chrono::seconds(5);         // topic.metadata.refresh.interval.ms
  Duration reconnect_backoff = std::chrono::milliseconds(50);  // reconnect.backoff.ms
  Duration request_timeout = std::chrono::seconds(10);         // bound of commit() and lag() calls
  // fetch.wait.max.ms: how long a broker may hold an empty fetch. Requests on the same connection
  // (the watermark queries of lag()) wait behind it, so it is shorter than librdkafka's 500 ms.
  Duration fetch_wait = std::chrono::milliseconds(100);
  // Other librdkafka properties; they may not change group.id or enable.auto.commit.
  std::map<std::string, std::string> properties;
};

struct ConsumedMessage {
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
};

struct PartitionLag {
  std::string topic;
  int partition = 0;
  std::int64_t committed = -1;  // the group's committed offset; -1 when none
  std::int64_t low_watermark = 0;
  std::int64_t high_watermark = 0;  // log end offset
  std::int64_t lag = 0;             // high_watermark - (committed, or low_watermark if none)
};

class KafkaConsumer {
 public:
  // Joins the group (asynchronously: the first poll()s may return nothing while it does), or, for
  // a standalone consumer, assigns the partitions (reading metadata, bounded by the request
  // timeout; Error if it cannot). Throws InputError for an invalid configuration, naming the
  // property.
  explicit KafkaConsumer(KafkaConsumerOptions options, Journal* journal = nullptr);
  ~KafkaConsumer();  // close()
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  // Returns the messages that arrive within `timeout` (at most `max`; returns early once one
  // message has arrived and the local queue is empty). Transient broker errors (a broker down, a
  // leader moving) are logged and retried by librdkafka, not thrown.
  std::vector<ConsumedMessage> poll(Duration timeout, std::size_t max = 1000);
  // Commits the positions reached by poll() synchronously. Returns the error name when the
  // commit failed (e.g. the coordinator moved; the next commit retries), or nothing.
  std::optional<std::string> commit();
  // Leaves the group. Idempotent.
  void close();

  // Lag of every partition of the subscribed topics; throws Error when the watermarks or the
  // committed offsets cannot be read within the request timeout.
  std::vector<PartitionLag> lag() const;
  // Partitions currently assigned to this member: topic -> partition numbers.
  std::map<std::string, std::vector<int>> assignment() const;

  std::size_t consumed_count() const;
  const std::string& client_id() const;
  const std::string& group() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline::clients
