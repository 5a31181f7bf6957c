#include "harness/backends/fake_backend.h"

#include <functional>
#include <map>
#include <mutex>

#include "fakes/docker/fake_docker.h"
#include "fakes/gpu/control_http.h"
#include "fakes/gpu/gpu_model.h"
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
  std::shared_ptr<FakeGpuInstance> gpu;
  std::shared_ptr<fakes::docker::FakeDockerEngine> docker;
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

  // The GPU server: a fresh start is a new device model (same seed, same uuids) on the same
  // control port; a persistent service's restart is a reboot of the same one.
  std::unique_ptr<stack::ServiceHandle> start_gpu(const stack::Service& s, FakeInstance& in,
                                                  bool fresh) {
    if (fresh || !in.gpu) {
      in.gpu.reset();
      in.gpu = make_fake_gpu(loop, clock, s, run.path() / "services" / s.name, in.port,
                             seed ^ std::hash<std::string>{}(s.name));
    } else {
      restart_fake_gpu(*in.gpu);
    }
    return make_fake_gpu_handle(in.gpu, s, "fake GPU");
  }

  // The Docker Engine fake on a unix socket in the run directory, kept at the same path.
  std::unique_ptr<stack::ServiceHandle> start_docker(const stack::Service& s, FakeInstance& in,
                                                     bool fresh) {
    if (fresh || !in.docker) {
      in.docker.reset();  // its socket goes before the new one is made
      in.docker =
          make_fake_docker(loop, clock, s, run.path() / ("docker-" + s.name + ".sock"), in.port);
    } else {
      in.docker->clear_failures();
      in.docker->heal_all();
    }
    return make_fake_docker_handle(in.docker, clock, s, "Docker Engine fake");
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
    in.gpu.reset();     // stops its control endpoint
    in.docker.reset();  // stops listening, removes its socket
  }
}

std::optional<std::string> FakeBackend::unavailable(const stack::Service& service) const {
  switch (service.kind) {
    case stack::ServiceKind::redis:
    case stack::ServiceKind::postgres:
    case stack::ServiceKind::gpu:
    case stack::ServiceKind::docker:
      return std::nullopt;
    case stack::ServiceKind::kafka:
      return librdkafka_unavailable();
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
  if (service.kind == stack::ServiceKind::gpu) {
    return impl_->start_gpu(service, in, request.fresh_data);
  }
  if (service.kind == stack::ServiceKind::docker) {
    return impl_->start_docker(service, in, request.fresh_data);
  }
  return impl_->start_postgres(service, in, request.fresh_data);
}

}  // namespace faultline::backends
