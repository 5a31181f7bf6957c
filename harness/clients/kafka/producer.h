// KafkaProducer: a librdkafka producer that never loses track of a message.
//
// acks=all and idempotence are always on (enable.idempotence=true: no duplicates and no reordering
// within a partition across retries) and cannot be overridden. Each produce() is journaled as
// op.invoke and its delivery report as op.ok (acknowledged: partition and offset), op.fail (the
// broker or the client refused it: it was certainly not written) or op.info (the outcome is
// unknown: it may have been written, e.g. timed out in flight), subject `client_id`, fields
// {"op":"produce","id":N,...}. A checker can thus prove "every acknowledged message was consumed"
// from the journal alone. Delivery reports are served by an internal thread, so the caller never
// has to poll.
//
// Thread safety: every member function may be called from any thread, concurrently.
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

namespace faultline::clients {

struct KafkaProducerOptions {
  std::string bootstrap;  // bootstrap.servers, e.g. FakeKafkaCluster::bootstrap()
  std::string client_id = "faultline-producer";
  // delivery.timeout.ms: how long a message may wait for its acknowledgement before it fails.
  Duration delivery_timeout = std::chrono::seconds(30);
  Duration linger = std::chrono::milliseconds(5);              // linger.ms
  Duration retry_backoff = std::chrono::milliseconds(50);      // retry.backoff.ms
  Duration metadata_refresh = std::chrono::seconds(5);         // topic.metadata.refresh.interval.ms
  Duration reconnect_backoff = std::chrono::milliseconds(50);  // reconnect.backoff.ms
  // Other librdkafka properties (e.g. "debug"); they may not change acks or idempotence.
  std::map<std::string, std::string> properties;
};

struct DeliveryReport {
  enum class Outcome { acknowledged, failed, unknown };
  std::uint64_t id = 0;  // what produce() returned
  std::string topic;
  int partition = -1;        // -1 when never assigned
  std::int64_t offset = -1;  // the message's offset when acknowledged
  std::string key;
  std::string value;
  Outcome outcome = Outcome::unknown;
  std::string error;  // librdkafka's error name, e.g. "_MSG_TIMED_OUT"; empty when acknowledged
};

class KafkaProducer {
 public:
  // Throws InputError when the configuration is invalid (unknown property, acks or idempotence
  // overridden, empty bootstrap), naming the property.
  explicit KafkaProducer(KafkaProducerOptions options, Journal* journal = nullptr);
  // Waits for outstanding reports for at most the delivery timeout, then closes.
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Queues one message and returns its id (1, 2, ...). partition -1 lets the partitioner choose
  // (by key). Throws Error when librdkafka refuses it locally (unknown partition, queue full).
  std::uint64_t produce(const std::string& topic, const std::string& key, const std::string& value,
                        int partition = -1);

  // Waits until every queued message has its report, or `bound` passes on the real clock.
  // Returns the number still outstanding (0: all reported).
  std::size_t flush(Duration bound);
  std::size_t outstanding() const;

  // Reports so far, in the order they arrived.
  std::vector<DeliveryReport> reports() const;
  std::vector<DeliveryReport> acknowledged() const;
  std::size_t acknowledged_count() const;

  const std::string& client_id() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string_view to_string(DeliveryReport::Outcome outcome);

}  // namespace faultline::clients
