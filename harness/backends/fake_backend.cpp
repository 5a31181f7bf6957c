#include "harness/backends/fake_backend.h"

#include <functional>
#include <map>
#include <mutex>

#include "fakes/kafka/fake_kafka.h"
#include "fakes/postgres/postgres_fake.h"
#include "fakes/redis/server.h"
#include "harness/backends/fake_services.h"
#include "harness/core/ports.h"
#include "harness/core/sanitizers.h"
#include "harness/stack/values.h"

namespace faultline::backends {

// One service's fake, kept between its starts: a persistent service's restart reuses it (its data
// survives); any other start replaces it with an empty one on the same port.
struct FakeInstance {
  std::uint16_t port = 0;
  std::shared_ptr<fakes::redis::RedisFake> redis;
  std::shared_ptr<pg::PostgresFake> postgres;
  std::shared_ptr<fakes::kafka::FakeKafkaCluster> kafka;
};

struct FakeBackend::Impl {
  RunDirectory& run;
  Clock& clock;
  EventLoop& loop;
  Journal* journal;
  std::uint64_t seed;
  std::map<std::string, FakeInstance> instances;

  std::unique_ptr<stack::ServiceHandle> start_redis(const stack::Service& s, FakeInstance& in,
                                                    bool fresh) {
    if (fresh || !in.redis) {
      if (in.redis) in.redis->stop();
      fakes::redis::RedisFakeOptions o;
      o.port = in.port;
      if (auto mem = s.setting("maxmemory"); !mem.empty()) {
        o.maxmemory = stack::parse_size(mem).value_or(0);
      }
      o.maxmemory_policy = s.setting("maxmemory-policy", "noeviction");
      o.seed = seed ^ std::hash<std::string>{}(s.name);
      o.journal = journal;
      o.name = s.name;
      in.redis = std::make_shared<fakes::redis::RedisFake>(loop, clock, o);
    } else {
      in.redis->heal_all();  // a restarted server carries none of the last one's faults
    }
    in.redis->start();
    return make_fake_redis_handle(in.redis, s);
  }

  // The mock cluster picks its brokers' ports: a fresh cluster gets new ones; a persistent
  // service's restart brings the same brokers (and their logs) back up.
  std::unique_ptr<stack::ServiceHandle> start_kafka(const stack::Service& s, FakeInstance& in,
                                                    bool fresh) {
    if (fresh || !in.kafka) {
      in.kafka.reset();
      fakes::kafka::FakeKafkaOptions o;
      o.brokers = std::stoi(s.setting("brokers", "1"));
      o.journal = journal;
      in.kafka = std::make_shared<fakes::kafka::FakeKafkaCluster>(clock, o);
    } else {
      in.kafka->heal_all();  // every broker up, no injected latency or errors
    }
    return make_fake_kafka_handle(in.kafka, s);
  }

  std::unique_ptr<stack::ServiceHandle> start_postgres(const stack::Service& s, FakeInstance& in,
                                                       bool fresh) {
    if (fresh || !in.postgres) {
      if (in.postgres) in.postgres->stop();
      pg::PostgresFakeOptions o;
      o.port = in.port;
      if (auto n = s.setting("max-connections"); !n.empty()) o.max_connections = std::stoi(n);
      o.seed = seed ^ std::hash<std::string>{}(s.name);
      o.journal = journal;
      in.postgres = std::make_shared<pg::PostgresFake>(loop, clock, o);
    } else {
      in.postgres->heal_all();
    }
    in.postgres->start();
    return make_fake_postgres_handle(in.postgres, s);
  }
};

FakeBackend::FakeBackend(RunDirectory& run, Clock& clock, EventLoop& loop, Journal* journal,
                         std::uint64_t seed)
    : impl_(new Impl{run, clock, loop, journal, seed, {}}) {}

FakeBackend::~FakeBackend() {
  for (auto& [name, in] : impl_->instances) {
    if (in.redis) in.redis->stop();
    if (in.postgres) in.postgres->stop();
  }
}

std::optional<std::string> FakeBackend::unavailable(const stack::Service& service) const {
  switch (service.kind) {
    case stack::ServiceKind::redis:
    case stack::ServiceKind::postgres:
      return std::nullopt;
    case stack::ServiceKind::kafka:
      return librdkafka_unavailable();
    case stack::ServiceKind::gpu:
    case stack::ServiceKind::docker:
      return "the fake backend does not run the " + std::string(stack::to_string(service.kind)) +
             " fake as a stack service yet (run it on its own: faultline fake " +
             std::string(stack::to_string(service.kind)) + ")";
    case stack::ServiceKind::container:
      return "the fake backend cannot run a generic container ('" + service.image + "')";
  }
  return "unknown kind";
}

std::unique_ptr<stack::ServiceHandle> FakeBackend::start(const stack::Service& service,
                                                         const stack::StartRequest& request) {
  if (auto why = unavailable(service)) throw Error(service.name + ": " + *why);
  FakeInstance& in = impl_->instances[service.name];
  if (in.port == 0) in.port = pick_free_port();
  if (service.kind == stack::ServiceKind::redis) {
    return impl_->start_redis(service, in, request.fresh_data);
  }
  if (service.kind == stack::ServiceKind::kafka) {
    return impl_->start_kafka(service, in, request.fresh_data);
  }
  return impl_->start_postgres(service, in, request.fresh_data);
}

}  // namespace faultline::backends
