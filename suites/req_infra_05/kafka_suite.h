// What the REQ-INFRA-05 tests share: a 3-broker fake with client options tuned for speed (short
// linger, backoffs and metadata refresh; the suite waits for conditions, never for time), and the
// Ledger that compares what was acknowledged with what was consumed.
//
// Thread safety: used from the test's thread.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fakes/kafka/fake_kafka.h"
#include "harness/clients/kafka/consumer.h"
#include "harness/clients/kafka/producer.h"

namespace faultline::suites::kafka {

using namespace std::chrono_literals;

inline clients::KafkaProducerOptions fast_producer(const std::string& bootstrap,
                                                   Duration delivery_timeout = 30s) {
  clients::KafkaProducerOptions o;
  o.bootstrap = bootstrap;
  o.delivery_timeout = delivery_timeout;
  o.linger = 1ms;
  o.retry_backoff = 20ms;
  o.reconnect_backoff = 20ms;
  o.metadata_refresh = 1s;
  o.properties["topic.metadata.refresh.fast.interval.ms"] = "20";
  return o;
}

// `subscribe` false: a standalone reader of every partition (no group join, see consumer.h).
inline clients::KafkaConsumerOptions fast_consumer(const std::string& bootstrap,
                                                   const std::string& group,
                                                   const std::string& topic, bool subscribe) {
  clients::KafkaConsumerOptions o;
  o.bootstrap = bootstrap;
  o.group = group;
  o.topics = {topic};
  o.subscribe = subscribe;
  o.reconnect_backoff = 20ms;
  o.metadata_refresh = 1s;
  o.heartbeat_interval = 300ms;
  o.fetch_wait = 20ms;
  return o;
}

// Acknowledged messages (from delivery reports) against consumed ones, by key.
class Ledger {
 public:
  struct Where {
    int partition = -1;
    std::int64_t offset = -1;
  };

  void acknowledge(const std::vector<clients::DeliveryReport>& reports);
  // Records consumed messages; notes any offset that does not increase within a partition.
  void consume(const std::vector<clients::ConsumedMessage>& messages);

  std::size_t acknowledged() const { return acked_.size(); }
  // Acknowledged keys never consumed.
  std::vector<std::string> missing() const;
  // Consumed messages whose partition/offset differ from their acknowledgement.
  std::vector<std::string> misplaced() const;
  // Offsets that went backwards in consumption order (a redelivery after a rebalance does that
  // legitimately; a fault-free read must have none).
  int reorderings() const { return reorderings_; }

 private:
  std::map<std::string, Where> acked_;
  std::map<std::string, Where> consumed_;
  std::map<int, std::int64_t> last_offset_;
  int reorderings_ = 0;
};

// Polls (and commits) until every acknowledged key has been consumed or `bound` passes; returns
// whether it got there.
bool drain(clients::KafkaConsumer& consumer, Ledger& ledger, Duration bound = 30s);

}  // namespace faultline::suites::kafka
