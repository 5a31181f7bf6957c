#include "harness/clients/kafka/producer.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "harness/clients/kafka/rdkafka_config.h"
#include "harness/core/error.h"
#include "harness/core/journal.h"
#include "harness/core/log.h"

namespace faultline::clients {

std::string_view to_string(DeliveryReport::Outcome outcome) {
  switch (outcome) {
    case DeliveryReport::Outcome::acknowledged:
      return "acknowledged";
    case DeliveryReport::Outcome::failed:
      return "failed";
    case DeliveryReport::Outcome::unknown:
      return "unknown";
  }
  return "unknown";
}

struct KafkaProducer::Impl {
  KafkaProducerOptions options;
  Journal* journal;
  rd_kafka_t* rk = nullptr;
  std::thread poller;
  std::atomic<bool> stopping{false};

  mutable std::mutex mu;
  std::condition_variable reported;
  std::uint64_t next_id = 1;
  std::size_t outstanding = 0;
  std::vector<DeliveryReport> reports;
  std::size_t acknowledged = 0;

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    static_cast<Impl*>(opaque)->delivered(*m);
  }

  void delivered(const rd_kafka_message_t& m) {
    DeliveryReport r;
    r.id = reinterpret_cast<std::uintptr_t>(m._private);
    r.topic = rd_kafka_topic_name(m.rkt);
    r.partition = m.partition;
    if (m.key) r.key.assign(static_cast<const char*>(m.key), m.key_len);
    if (m.payload) r.value.assign(static_cast<const char*>(m.payload), m.len);
    if (m.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      r.outcome = DeliveryReport::Outcome::acknowledged;
      r.offset = m.offset;
    } else {
      r.error = rd_kafka_err2name(m.err);
      // With idempotence librdkafka knows whether a failed message may still have been written.
      r.outcome = rd_kafka_message_status(&m) == RD_KAFKA_MSG_STATUS_NOT_PERSISTED
                      ? DeliveryReport::Outcome::failed
                      : DeliveryReport::Outcome::unknown;
    }
    if (journal) {
      nlohmann::json fields = {{"op", "produce"},
                               {"id", r.id},
                               {"topic", r.topic},
                               {"partition", r.partition},
                               {"key", r.key}};
      const char* kind = event_kind::kOpOk;
      if (r.outcome == DeliveryReport::Outcome::acknowledged) {
        fields["offset"] = r.offset;
      } else {
        fields["error"] = r.error;
        kind = r.outcome == DeliveryReport::Outcome::failed ? event_kind::kOpFail
                                                            : event_kind::kOpInfo;
      }
      journal->append(kind, options.client_id, std::move(fields));
    }
    std::lock_guard lock(mu);
    if (r.outcome == DeliveryReport::Outcome::acknowledged) ++acknowledged;
    reports.push_back(std::move(r));
    --outstanding;
    reported.notify_all();
  }

  void poll_loop() {
    while (!stopping.load()) rd_kafka_poll(rk, 50);
  }
};

KafkaProducer::KafkaProducer(KafkaProducerOptions options, Journal* journal)
    : impl_(std::make_unique<Impl>()) {
  const std::string who = "kafka producer '" + options.client_id + "'";
  if (options.bootstrap.empty()) throw InputError({}, who + ": bootstrap servers are required");
  impl_->options = std::move(options);
  impl_->journal = journal;
  const auto& o = impl_->options;
  detail::RdkafkaConfig config(who);
  config.set_connection(o.bootstrap, o.client_id, o.metadata_refresh, o.reconnect_backoff);
  config.set("acks", "all");
  config.set("enable.idempotence", "true");
  config.set_ms("delivery.timeout.ms", o.delivery_timeout);
  config.set_ms("linger.ms", o.linger);
  config.set_ms("retry.backoff.ms", o.retry_backoff);
  config.set_user(o.properties,
                  {"acks", "request.required.acks", "enable.idempotence", "bootstrap.servers",
                   "metadata.broker.list", "client.id", "enable.gapless.guarantee"});
  rd_kafka_conf_set_dr_msg_cb(config.get(), &Impl::on_delivery);
  rd_kafka_conf_set_opaque(config.get(), impl_.get());
  impl_->rk = detail::new_handle(RD_KAFKA_PRODUCER, config, who);
  impl_->poller = std::thread([impl = impl_.get()] { impl->poll_loop(); });
}

KafkaProducer::~KafkaProducer() {
  const std::size_t left = flush(impl_->options.delivery_timeout + std::chrono::seconds(1));
  if (left > 0) {
    // Give every message still queued its report (failed or unknown) before closing.
    rd_kafka_purge(impl_->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    flush(std::chrono::seconds(5));
  }
  impl_->stopping = true;
  impl_->poller.join();
  rd_kafka_destroy(impl_->rk);
}

std::uint64_t KafkaProducer::produce(const std::string& topic, const std::string& key,
                                     const std::string& value, int partition) {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(impl_->mu);
    id = impl_->next_id++;
    ++impl_->outstanding;
  }
  if (impl_->journal) {
    impl_->journal->append(event_kind::kOpInvoke, impl_->options.client_id,
                           {{"op", "produce"},
                            {"id", id},
                            {"topic", topic},
                            {"partition", partition},
                            {"key", key},
                            {"value", value}});
  }
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      impl_->rk, RD_KAFKA_V_TOPIC(topic.c_str()),
      RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
      RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(id))), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    {
      std::lock_guard lock(impl_->mu);
      --impl_->outstanding;
      impl_->reported.notify_all();
    }
    if (impl_->journal) {
      impl_->journal->append(event_kind::kOpFail, impl_->options.client_id,
                             {{"op", "produce"}, {"id", id}, {"error", rd_kafka_err2name(err)}});
    }
    throw Error("kafka producer '" + impl_->options.client_id + "': cannot queue a message for " +
                topic + ": " + rd_kafka_err2str(err));
  }
  return id;
}

std::size_t KafkaProducer::flush(Duration bound) {
  std::unique_lock lock(impl_->mu);
  impl_->reported.wait_for(lock, bound, [&] { return impl_->outstanding == 0; });
  return impl_->outstanding;
}

std::size_t KafkaProducer::outstanding() const {
  std::lock_guard lock(impl_->mu);
  return impl_->outstanding;
}

std::vector<DeliveryReport> KafkaProducer::reports() const {
  std::lock_guard lock(impl_->mu);
  return impl_->reports;
}

std::vector<DeliveryReport> KafkaProducer::acknowledged() const {
  std::lock_guard lock(impl_->mu);
  std::vector<DeliveryReport> out;
  for (const auto& r : impl_->reports) {
    if (r.outcome == DeliveryReport::Outcome::acknowledged) out.push_back(r);
  }
  return out;
}

std::size_t KafkaProducer::acknowledged_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->acknowledged;
}

const std::string& KafkaProducer::client_id() const {
  return impl_->options.client_id;
}

}  // namespace faultline::clients
