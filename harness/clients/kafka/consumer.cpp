#include "harness/clients/kafka/consumer.h"

#include <mutex>

#include "harness/clients/kafka/rdkafka_config.h"
#include "harness/core/error.h"
#include "harness/core/journal.h"
#include "harness/core/log.h"

namespace faultline::clients {

namespace {

constexpr const char* kComponent = "kafka-consumer";

int to_ms(Duration d) {
  return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t,
                                      decltype(&rd_kafka_topic_partition_list_destroy)>;

PartitionList make_list(int size) {
  return PartitionList(rd_kafka_topic_partition_list_new(size),
                       &rd_kafka_topic_partition_list_destroy);
}

}  // namespace

struct KafkaConsumer::Impl {
  KafkaConsumerOptions options;
  Journal* journal;
  rd_kafka_t* rk = nullptr;
  bool closed = false;
  // Position (next offset to read) reached by poll() per (topic, partition), not yet committed.
  std::map<std::pair<std::string, int>, std::int64_t> positions;
  mutable std::mutex mu;  // guards `consumed`
  std::size_t consumed = 0;

  // Reached from rd_kafka_consumer_poll() on the polling thread: commit what was processed on the
  // partitions being taken away (so the next owner resumes there), then follow the assignment.
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      rd_kafka_assign(rk, partitions);
    } else {
      if (!rd_kafka_assignment_lost(rk)) self->commit_positions(partitions);
      for (int i = 0; i < partitions->cnt; ++i) {
        self->positions.erase({partitions->elems[i].topic, partitions->elems[i].partition});
      }
      rd_kafka_assign(rk, nullptr);
    }
    if (self->journal) {
      nlohmann::json parts = nlohmann::json::array();
      for (int i = 0; i < partitions->cnt; ++i) {
        parts.push_back({partitions->elems[i].topic, partitions->elems[i].partition});
      }
      self->journal->append(
          "kafka.rebalance", self->options.client_id,
          {{"assigned", err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS}, {"partitions", parts}});
    }
  }

  // Commits positions (all of them, or those of `only`); returns the error name or nothing.
  std::optional<std::string> commit_positions(const rd_kafka_topic_partition_list_t* only) {
    auto list = make_list(static_cast<int>(positions.size()));
    nlohmann::json offsets = nlohmann::json::array();
    for (const auto& [tp, offset] : positions) {
      bool wanted = only == nullptr;
      for (int i = 0; only && i < only->cnt; ++i) {
        wanted =
            wanted || (tp.first == only->elems[i].topic && tp.second == only->elems[i].partition);
      }
      if (!wanted) continue;
      rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = offset;
      offsets.push_back({tp.first, tp.second, offset});
    }
    if (list->cnt == 0) return std::nullopt;
    // Through a queue of our own so that the wait is bounded by the request timeout.
    rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
    rd_kafka_resp_err_t err = rd_kafka_commit_queue(rk, list.get(), queue, nullptr, nullptr);
    if (!err) {
      rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, to_ms(options.request_timeout));
      if (!ev) {
        err = RD_KAFKA_RESP_ERR__TIMED_OUT;
      } else {
        err = rd_kafka_event_error(ev);
        // A commit can succeed as a whole and fail for single partitions.
        const auto* result = rd_kafka_event_topic_partition_list(ev);
        for (int i = 0; !err && result && i < result->cnt; ++i) err = result->elems[i].err;
        rd_kafka_event_destroy(ev);
      }
    }
    rd_kafka_queue_destroy(queue);
    std::optional<std::string> error;
    if (err) error = rd_kafka_err2name(err);
    if (journal) {
      nlohmann::json fields = {{"op", "commit"}, {"offsets", offsets}};
      if (error) fields["error"] = *error;
      journal->append(error ? event_kind::kOpFail : event_kind::kOpOk, options.client_id,
                      std::move(fields));
    }
    if (error) log::debug(kComponent, "commit failed", {{"error", *error}});
    return error;
  }

  // Every partition of the configured topics, from the cluster's metadata.
  PartitionList all_partitions(const std::string& who) const {
    const int timeout = to_ms(options.request_timeout);
    auto list = make_list(8);
    for (const auto& topic : options.topics) {
      rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
      const rd_kafka_metadata_t* md = nullptr;
      const auto err = rd_kafka_metadata(rk, 0, rkt, &md, timeout);
      rd_kafka_topic_destroy(rkt);
      if (err || md->topic_cnt != 1 || md->topics[0].err) {
        const auto why =
            err ? err : (md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC);
        if (md) rd_kafka_metadata_destroy(md);
        throw Error(who + ": no metadata for topic " + topic + ": " + rd_kafka_err2name(why));
      }
      for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(),
                                          md->topics[0].partitions[p].id);
      }
      rd_kafka_metadata_destroy(md);
    }
    return list;
  }
};

KafkaConsumer::KafkaConsumer(KafkaConsumerOptions options, Journal* journal)
    : impl_(std::make_unique<Impl>()) {
  const std::string who = "kafka consumer '" + options.client_id + "'";
  if (options.bootstrap.empty()) throw InputError({}, who + ": bootstrap servers are required");
  if (options.group.empty()) throw InputError({}, who + ": a group id is required");
  if (options.topics.empty()) throw InputError({}, who + ": at least one topic is required");
  if (options.request_timeout <= Duration::zero()) {
    throw InputError({}, who + ": request timeout must be positive");
  }
  impl_->options = std::move(options);
  impl_->journal = journal;
  const auto& o = impl_->options;
  detail::RdkafkaConfig config(who);
  config.set_connection(o.bootstrap, o.client_id, o.metadata_refresh, o.reconnect_backoff);
  config.set("group.id", o.group);
  config.set("enable.auto.commit", "false");
  config.set("auto.offset.reset", "earliest");
  config.set_ms("session.timeout.ms", o.session_timeout);
  config.set_ms("heartbeat.interval.ms", o.heartbeat_interval);
  config.set_ms("fetch.wait.max.ms", o.fetch_wait);
  config.set_user(o.properties, {"group.id", "enable.auto.commit", "bootstrap.servers",
                                 "metadata.broker.list", "client.id"});
  rd_kafka_conf_set_rebalance_cb(config.get(), &Impl::on_rebalance);
  rd_kafka_conf_set_opaque(config.get(), impl_.get());
  impl_->rk = detail::new_handle(RD_KAFKA_CONSUMER, config, who);
  rd_kafka_poll_set_consumer(impl_->rk);
  if (!o.subscribe) {
    try {
      auto all = impl_->all_partitions(who);
      for (int i = 0; i < all->cnt; ++i) all->elems[i].offset = RD_KAFKA_OFFSET_STORED;
      if (const auto err = rd_kafka_assign(impl_->rk, all.get())) {
        throw Error(who + ": cannot assign partitions: " + rd_kafka_err2str(err));
      }
    } catch (...) {
      rd_kafka_destroy(impl_->rk);
      throw;
    }
    return;
  }
  auto list = make_list(static_cast<int>(o.topics.size()));
  for (const auto& t : o.topics) {
    rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (const auto err = rd_kafka_subscribe(impl_->rk, list.get())) {
    rd_kafka_destroy(impl_->rk);
    throw InputError({}, who + ": cannot subscribe: " + rd_kafka_err2str(err));
  }
}

KafkaConsumer::~KafkaConsumer() {
  close();
  rd_kafka_destroy(impl_->rk);
}

std::vector<ConsumedMessage> KafkaConsumer::poll(Duration timeout, std::size_t max) {
  std::vector<ConsumedMessage> out;
  if (impl_->closed) throw Error("kafka consumer '" + impl_->options.client_id + "' is closed");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < max) {
    int wait_ms = 0;
    if (out.empty()) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= Duration::zero()) break;
      wait_ms = std::max(1, to_ms(left));
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(impl_->rk, wait_ms);
    if (!m) {
      if (!out.empty()) break;
      continue;
    }
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        log::debug(kComponent, "consume error (librdkafka retries)",
                   {{"client", impl_->options.client_id}, {"error", rd_kafka_err2name(m->err)}});
      }
      rd_kafka_message_destroy(m);
      continue;
    }
    ConsumedMessage c;
    c.topic = rd_kafka_topic_name(m->rkt);
    c.partition = m->partition;
    c.offset = m->offset;
    if (m->key) c.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload) c.value.assign(static_cast<const char*>(m->payload), m->len);
    rd_kafka_message_destroy(m);
    impl_->positions[{c.topic, c.partition}] = c.offset + 1;
    if (impl_->journal) {
      impl_->journal->append(event_kind::kOpOk, impl_->options.client_id,
                             {{"op", "consume"},
                              {"topic", c.topic},
                              {"partition", c.partition},
                              {"offset", c.offset},
                              {"key", c.key}});
    }
    out.push_back(std::move(c));
  }
  std::lock_guard lock(impl_->mu);
  impl_->consumed += out.size();
  return out;
}

std::optional<std::string> KafkaConsumer::commit() {
  if (impl_->closed) return std::string("_STATE");
  return impl_->commit_positions(nullptr);
}

void KafkaConsumer::close() {
  if (impl_->closed) return;
  impl_->closed = true;
  rd_kafka_consumer_close(impl_->rk);
}

std::vector<PartitionLag> KafkaConsumer::lag() const {
  const int timeout = to_ms(impl_->options.request_timeout);
  const std::string who = "kafka consumer '" + impl_->options.client_id + "'";
  auto list = impl_->all_partitions(who);
  if (const auto err = rd_kafka_committed(impl_->rk, list.get(), timeout)) {
    throw Error(who + ": cannot read committed offsets: " + rd_kafka_err2name(err));
  }
  std::vector<PartitionLag> out;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    PartitionLag l;
    l.topic = e.topic;
    l.partition = e.partition;
    l.committed = e.offset >= 0 ? e.offset : -1;
    if (const auto err = rd_kafka_query_watermark_offsets(
            impl_->rk, e.topic, e.partition, &l.low_watermark, &l.high_watermark, timeout)) {
      throw Error(who + ": cannot read the watermarks of " + l.topic + "[" +
                  std::to_string(l.partition) + "]: " + rd_kafka_err2name(err));
    }
    l.lag = l.high_watermark - (l.committed >= 0 ? l.committed : l.low_watermark);
    out.push_back(std::move(l));
  }
  return out;
}

std::map<std::string, std::vector<int>> KafkaConsumer::assignment() const {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  std::map<std::string, std::vector<int>> out;
  if (rd_kafka_assignment(impl_->rk, &raw) || !raw) return out;
  for (int i = 0; i < raw->cnt; ++i) out[raw->elems[i].topic].push_back(raw->elems[i].partition);
  rd_kafka_topic_partition_list_destroy(raw);
  return out;
}

std::size_t KafkaConsumer::consumed_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->consumed;
}

const std::string& KafkaConsumer::client_id() const {
  return impl_->options.client_id;
}
const std::string& KafkaConsumer::group() const {
  return impl_->options.group;
}

}  // namespace faultline::clients
