#include "fakes/kafka/fake_kafka.h"

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h must come after rdkafka.h.
#include <librdkafka/rdkafka_mock.h>

#include <mutex>

#include "fakes/kafka/controller.h"
#include "fakes/kafka/mock_waker.h"
#include "harness/core/error.h"
#include "harness/core/journal.h"
#include "harness/core/log.h"

namespace faultline::fakes::kafka {

namespace {

constexpr const char* kComponent = "kafka-fake";

// The mock's own librdkafka messages (a client it keeps for bookkeeping) go to our log.
void log_from_librdkafka(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  if (level <= 4) log::warn(kComponent, buf, {{"facility", fac}});
}

}  // namespace

// Why the mock cluster is destroyed from the client's on_destroy interceptor: librdkafka 2.0.2's
// rd_kafka_mock_cluster_destroy() ends by sending TERMINATE to the mock's internal "dummy" broker
// and only then dropping its reference to it; a broker thread leaves its loop when its reference
// count is 1, so when the thread serves the op before the reference is dropped it goes back to
// sleep on its queue for rd_kafka_max_block_ms (1 s) with nothing left to wake it, and the join
// waits that second out (librdkafka 2.10 fixed it: the broker thread drops that reference itself
// when it serves TERMINATE). Broker threads cut every wait to 1 ms once their rd_kafka_t is
// terminating, and on_destroy() runs exactly then: after rd_kafka_destroy() has set the terminate
// flag and before librdkafka checks that no mock cluster is left. So ~FakeKafkaCluster calls
// rd_kafka_destroy() and the cluster goes inside it.
struct FakeKafkaCluster::Impl {
  Clock& clock;
  Journal* journal;
  mutable std::mutex mu;
  KafkaController controller;
  rd_kafka_t* rk = nullptr;
  rd_kafka_mock_cluster_t* mock_cluster = nullptr;
  std::string bootstrap;
  std::unique_ptr<MockWaker> waker;

  // Every call into the mock goes through here (see mock_waker.h).
  template <class F>
  auto mock(F&& call) {
    MockWaker::Pending pending(*waker);
    return call();
  }

  // A mock call that returns an error code; throws Error naming `what` on failure.
  template <class F>
  void must(const std::string& what, F&& call) {
    check(mock(std::forward<F>(call)), what);
  }

  Impl(Clock& c, const FakeKafkaOptions& o) : clock(c), journal(o.journal), controller(o.brokers) {}

  // rd_kafka_new() -> on_new: registers on_destroy for this client (only possible from on_new).
  static rd_kafka_resp_err_t on_new(rd_kafka_t* rk, const rd_kafka_conf_t*, void* self, char*,
                                    size_t) {
    return rd_kafka_interceptor_add_on_destroy(rk, "faultline-kafka-fake", on_destroy, self);
  }
  // rd_kafka_destroy() (or a failed rd_kafka_new()) -> on_destroy, on librdkafka's main thread
  // with the terminate flag set: the mock's threads now poll in 1 ms steps (see above).
  static rd_kafka_resp_err_t on_destroy(rd_kafka_t*, void* self) {
    auto& impl = *static_cast<Impl*>(self);
    if (impl.mock_cluster) {
      if (impl.waker) {
        impl.mock([&] { rd_kafka_mock_cluster_destroy(impl.mock_cluster); });
      } else {
        rd_kafka_mock_cluster_destroy(impl.mock_cluster);
      }
      impl.mock_cluster = nullptr;
    }
    return RD_KAFKA_RESP_ERR_NO_ERROR;
  }

  void record(const char* kind, const std::string& subject, nlohmann::json fields) {
    if (journal) journal->append(kind, subject, std::move(fields));
  }

  void check(rd_kafka_resp_err_t err, const std::string& what) {
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Error("kafka fake: " + what + ": " + rd_kafka_err2str(err));
    }
  }

  void apply_leader(const LeaderChange& c) {
    must("set leader of " + c.topic + "[" + std::to_string(c.partition) + "]", [&] {
      return rd_kafka_mock_partition_set_leader(mock_cluster, c.topic.c_str(), c.partition, c.to);
    });
    record(event_kind::kDecision, "kafka.controller",
           {{"decision", "leader"},
            {"topic", c.topic},
            {"partition", c.partition},
            {"from", c.from},
            {"to", c.to}});
    log::info(kComponent, c.to == -1 ? "partition offline" : "leader elected",
              {{"topic", c.topic}, {"partition", c.partition}, {"from", c.from}, {"to", c.to}});
  }

  void apply(const ControllerDecisions& d) {
    for (const auto& c : d.leaders) apply_leader(c);
    for (const auto& c : d.coordinators) {
      must("set coordinator of group " + c.group, [&] {
        return rd_kafka_mock_coordinator_set(mock_cluster, "group", c.group.c_str(), c.to);
      });
      record(event_kind::kDecision, "kafka.controller",
             {{"decision", "coordinator"}, {"group", c.group}, {"from", c.from}, {"to", c.to}});
    }
  }
};

FakeKafkaCluster::FakeKafkaCluster(Clock& clock, FakeKafkaOptions options)
    : impl_(std::make_unique<Impl>(clock, options)) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, log_from_librdkafka);
  rd_kafka_conf_interceptor_add_on_new(conf, "faultline-kafka-fake", Impl::on_new, impl_.get());
  // The bookkeeping client never connects anywhere; keep it quiet.
  if (rd_kafka_conf_set(conf, "client.id", "faultline-kafka-fake", errstr, sizeof errstr) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw Error(std::string("kafka fake: ") + errstr);
  }
  impl_->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!impl_->rk) {
    rd_kafka_conf_destroy(conf);
    throw Error(std::string("kafka fake: cannot create the mock's client: ") + errstr);
  }
  impl_->mock_cluster = rd_kafka_mock_cluster_new(impl_->rk, options.brokers);
  if (!impl_->mock_cluster) {
    rd_kafka_destroy(impl_->rk);
    throw Error("kafka fake: cannot start a mock cluster of " + std::to_string(options.brokers) +
                " brokers");
  }
  try {
    impl_->bootstrap = rd_kafka_mock_cluster_bootstraps(impl_->mock_cluster);
    impl_->waker = std::make_unique<MockWaker>(impl_->bootstrap);
  } catch (...) {
    rd_kafka_destroy(impl_->rk);  // the cluster with it
    throw;
  }
  log::info(kComponent, "started", {{"brokers", options.brokers}, {"bootstrap", impl_->bootstrap}});
}

FakeKafkaCluster::~FakeKafkaCluster() {
  // The cluster goes inside: Impl::on_destroy (why: the comment above Impl).
  rd_kafka_destroy(impl_->rk);
}

std::string FakeKafkaCluster::bootstrap() const {
  return impl_->bootstrap;
}
int FakeKafkaCluster::broker_count() const {
  return impl_->controller.brokers();
}

void FakeKafkaCluster::create_topic(const std::string& name, int partitions, int replication) {
  std::lock_guard lock(impl_->mu);
  if (impl_->controller.has_topic(name)) {
    throw InputError({}, "kafka fake: topic '" + name + "' already exists");
  }
  // Validate first (the controller throws on bad arguments), then create in the mock and set
  // every leader from our placement (the mock picks a random one of its own).
  KafkaController probe(impl_->controller.brokers());
  probe.add_topic(name, partitions, replication);
  impl_->must("create topic " + name, [&] {
    return rd_kafka_mock_topic_create(impl_->mock_cluster, name.c_str(), partitions, replication);
  });
  const TopicState& t = impl_->controller.add_topic(name, partitions, replication);
  for (const auto& p : t.partitions) {
    impl_->must("set leader of " + name, [&] {
      return rd_kafka_mock_partition_set_leader(impl_->mock_cluster, name.c_str(), p.partition,
                                                p.leader);
    });
  }
  impl_->record("kafka.topic", name, {{"partitions", partitions}, {"replication", replication}});
}

std::vector<std::string> FakeKafkaCluster::topics() const {
  std::lock_guard lock(impl_->mu);
  return impl_->controller.topic_names();
}

TopicState FakeKafkaCluster::describe_topic(const std::string& name) const {
  std::lock_guard lock(impl_->mu);
  return impl_->controller.topic(name);
}

void FakeKafkaCluster::add_group(const std::string& group) {
  std::lock_guard lock(impl_->mu);
  const int coordinator = impl_->controller.add_group(group);
  impl_->must("set coordinator of group " + group, [&] {
    return rd_kafka_mock_coordinator_set(impl_->mock_cluster, "group", group.c_str(), coordinator);
  });
}

int FakeKafkaCluster::coordinator(const std::string& group) const {
  std::lock_guard lock(impl_->mu);
  return impl_->controller.coordinator(group);
}

std::map<std::string, int> FakeKafkaCluster::groups() const {
  std::lock_guard lock(impl_->mu);
  return impl_->controller.groups();
}

void FakeKafkaCluster::broker_down(int broker) {
  std::lock_guard lock(impl_->mu);
  const bool was_up = impl_->controller.is_up(broker);
  const auto decisions = impl_->controller.broker_down(broker, impl_->clock.now());
  if (!was_up) return;
  impl_->record(event_kind::kFaultInject, "kafka.broker." + std::to_string(broker),
                {{"fault", "broker_down"}, {"broker", broker}});
  // New leaders first, so that clients cut off from the lost broker find them at once.
  impl_->apply(decisions);
  impl_->must("take broker down",
              [&] { return rd_kafka_mock_broker_set_down(impl_->mock_cluster, broker); });
  log::info(kComponent, "broker down", {{"broker", broker}});
}

void FakeKafkaCluster::broker_up(int broker) {
  std::lock_guard lock(impl_->mu);
  const bool was_up = impl_->controller.is_up(broker);
  const auto decisions = impl_->controller.broker_up(broker, impl_->clock.now());
  if (was_up) return;
  impl_->must("bring broker up",
              [&] { return rd_kafka_mock_broker_set_up(impl_->mock_cluster, broker); });
  impl_->apply(decisions);
  impl_->record(event_kind::kFaultHeal, "kafka.broker." + std::to_string(broker),
                {{"fault", "broker_down"}, {"broker", broker}});
  log::info(kComponent, "broker up", {{"broker", broker}});
}

bool FakeKafkaCluster::broker_is_up(int broker) const {
  std::lock_guard lock(impl_->mu);
  return impl_->controller.is_up(broker);
}

void FakeKafkaCluster::set_rtt(int broker, std::chrono::milliseconds rtt) {
  if (broker != -1 && (broker < 1 || broker > broker_count())) {
    throw InputError({}, "kafka fake: no broker " + std::to_string(broker));
  }
  if (rtt.count() < 0 || rtt.count() > 600000) {
    throw InputError({}, "kafka fake: rtt must be 0..600000 ms");
  }
  std::lock_guard lock(impl_->mu);
  impl_->must("set rtt", [&] {
    return rd_kafka_mock_broker_set_rtt(impl_->mock_cluster, broker, static_cast<int>(rtt.count()));
  });
  impl_->record(rtt.count() ? event_kind::kFaultInject : event_kind::kFaultHeal,
                "kafka.broker." + std::to_string(broker), {{"fault", "rtt"}, {"ms", rtt.count()}});
}

void FakeKafkaCluster::push_errors(int api_key, const std::vector<int>& errors) {
  if (api_key < 0 || api_key > 1000) throw InputError({}, "kafka fake: bad API key");
  std::vector<rd_kafka_resp_err_t> codes;
  for (int e : errors) codes.push_back(static_cast<rd_kafka_resp_err_t>(e));
  std::lock_guard lock(impl_->mu);
  impl_->mock([&] {
    return rd_kafka_mock_push_request_errors_array(
        impl_->mock_cluster, static_cast<int16_t>(api_key), codes.size(), codes.data());
  });
  impl_->record(event_kind::kFaultInject, "kafka.cluster",
                {{"fault", "request_errors"}, {"api_key", api_key}, {"errors", errors}});
}

void FakeKafkaCluster::push_broker_errors(int broker, int api_key, const std::vector<int>& errors,
                                          std::chrono::milliseconds rtt) {
  if (broker < 1 || broker > broker_count()) {
    throw InputError({}, "kafka fake: no broker " + std::to_string(broker));
  }
  if (api_key < 0 || api_key > 1000) throw InputError({}, "kafka fake: bad API key");
  std::lock_guard lock(impl_->mu);
  // The variadic API takes (error, rtt) pairs; push them one at a time.
  for (int e : errors) {
    impl_->must("push broker errors", [&] {
      return rd_kafka_mock_broker_push_request_error_rtts(
          impl_->mock_cluster, broker, static_cast<int16_t>(api_key), 1,
          static_cast<rd_kafka_resp_err_t>(e), static_cast<int>(rtt.count()));
    });
  }
  impl_->record(event_kind::kFaultInject, "kafka.broker." + std::to_string(broker),
                {{"fault", "request_errors"}, {"api_key", api_key}, {"errors", errors}});
}

void FakeKafkaCluster::clear_errors(int api_key) {
  std::lock_guard lock(impl_->mu);
  impl_->mock([&] {
    return rd_kafka_mock_clear_request_errors(impl_->mock_cluster, static_cast<int16_t>(api_key));
  });
  impl_->record(event_kind::kFaultHeal, "kafka.cluster",
                {{"fault", "request_errors"}, {"api_key", api_key}});
}

void FakeKafkaCluster::move_leader(const std::string& topic, int partition, int broker) {
  std::lock_guard lock(impl_->mu);
  const LeaderChange change = impl_->controller.move_leader(topic, partition, broker);
  impl_->record(event_kind::kFaultInject, "kafka.partition",
                {{"fault", "move_leader"}, {"topic", topic}, {"partition", partition}});
  impl_->apply_leader(change);
}

int FakeKafkaCluster::elect_preferred_leaders() {
  std::lock_guard lock(impl_->mu);
  const auto changes = impl_->controller.elect_preferred_leaders();
  for (const auto& c : changes) impl_->apply_leader(c);
  return static_cast<int>(changes.size());
}

void FakeKafkaCluster::heal_all() {
  for (int b = 1; b <= broker_count(); ++b) broker_up(b);
  set_rtt(-1, std::chrono::milliseconds(0));
  for (int key : {api_key::kProduce, api_key::kFetch, api_key::kListOffsets, api_key::kMetadata,
                  api_key::kOffsetCommit, api_key::kOffsetFetch, api_key::kFindCoordinator,
                  api_key::kJoinGroup, api_key::kHeartbeat, api_key::kLeaveGroup,
                  api_key::kSyncGroup, api_key::kApiVersions, api_key::kInitProducerId}) {
    std::lock_guard lock(impl_->mu);
    impl_->mock([&] {
      return rd_kafka_mock_clear_request_errors(impl_->mock_cluster, static_cast<int16_t>(key));
    });
  }
  impl_->record(event_kind::kFaultHeal, "kafka.cluster", {{"fault", "all"}});
}

ClusterHealth FakeKafkaCluster::health() const {
  std::lock_guard lock(impl_->mu);
  return impl_->controller.health(impl_->clock.now());
}

}  // namespace faultline::fakes::kafka
