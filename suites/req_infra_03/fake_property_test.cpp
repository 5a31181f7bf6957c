// PT-INFRA-03.1 on the Redis fake: under random reads, writes through the cache, writes behind its
// back, simulated time and random Redis faults, every read returns a value the database held
// within the last TTL (the current one, unless another writer changed it less than a TTL ago),
// a write through the cache is visible to the next read, and no call fails because of Redis.
#include <map>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "fakes/redis/keyspace.h"
#include "harness/testing/covers.h"
#include "harness/testing/property.h"
#include "suites/req_infra_03/fake_cache_fixture.h"

namespace faultline::suites::req_infra_03 {
namespace {

using namespace std::chrono_literals;
using Op = std::tuple<std::uint8_t, std::uint8_t, std::uint32_t>;  // kind, key, parameter

constexpr int kKeyCount = 3;
constexpr Duration kTtl = 10s;

// What the database held for each key, and until when each overwritten value may still be served.
struct Model {
  std::map<std::string, std::string> current;
  // key -> value -> when another writer replaced it (a write through the cache clears the key's
  // history: the cache must never serve what preceded it).
  std::map<std::string, std::map<std::string, TimePoint>> replaced;

  bool acceptable(const std::string& key, const std::optional<std::string>& got,
                  TimePoint now) const {
    const auto cur = current.find(key);
    if (!got) return cur == current.end();
    if (cur != current.end() && cur->second == *got) return true;
    const auto hist = replaced.find(key);
    if (hist == replaced.end()) return false;
    const auto at = hist->second.find(*got);
    return at != hist->second.end() && at->second > now - kTtl;
  }
};

void inject_fault(fakes::redis::RedisFake& fake, std::uint32_t which) {
  switch (which % 9) {
    case 0:
      fake.refuse_connections(true);
      fake.close_all_clients();
      break;
    case 1:
      fake.pause(true);
      break;
    case 2:
      fake.oom(true);
      break;
    case 3:
      fake.loading(true);
      break;
    case 4:
      fake.readonly(true);
      break;
    case 5:
      fake.close_all_clients();
      break;
    case 6:
      fake.latency("*", std::chrono::seconds(1 + which % 20));
      break;
    case 7:
      fake.close_after(which % 3);
      break;
    case 8:  // Redis lost its data (straight into the keyspace: a held connection would block)
      fake.with_keyspace([](fakes::redis::Keyspace& keyspace) { keyspace.flush_all(); });
      break;
  }
}

TEST(CacheProperty, CoherentWithTheSourceAndCallersKeepWorkingUnderRandomFaults) {
  FAULTLINE_COVERS("PT-INFRA-03.1");
  testing::check_property([](const std::vector<Op>& ops) {
    ManualClock clock;
    // Redis on the client's clock (both expire together), or on one of its own that never moves,
    // as a real redis-server's does not follow a simulation: then only the client's check holds.
    ManualClock redis_own_clock;
    const bool shared_clock = *rc::gen::arbitrary<bool>();
    EventLoop loop;
    MapSource source;
    fakes::redis::RedisFake fake(loop, shared_clock ? clock : redis_own_clock, {.seed = 7});
    fake.start();
    auto config = fake_cache_config(fake.port());
    config.command_timeout = 20ms;
    config.connect_timeout = 20ms;
    config.default_ttl = kTtl;
    config.failure_threshold = 2;
    config.half_open_after = 5s;
    clients::RedisManager redis(config);
    clients::CacheClient cache(redis, source, clock, nullptr, config);
    Model model;
    int next_value = 0;

    for (const auto& [kind, key_index, param] : ops) {
      const std::string key = "k" + std::to_string(key_index % kKeyCount);
      switch (kind % 7) {
        case 0:
        case 1: {  // read (twice as likely)
          const auto got = cache.get(key);
          RC_ASSERT(model.acceptable(key, got, clock.now()));
          break;
        }
        case 2: {  // write through the cache
          const std::string value = "v" + std::to_string(next_value++);
          cache.put(key, value);
          model.current[key] = value;
          model.replaced.erase(key);
          break;
        }
        case 3: {  // another writer of the database
          const std::string value = "w" + std::to_string(next_value++);
          if (const auto old = model.current.find(key); old != model.current.end())
            model.replaced[key][old->second] = clock.now();
          source.set_directly(key, value);
          model.current[key] = value;
          break;
        }
        case 4:  // time passes
          clock.advance(std::chrono::milliseconds(param % 15000));
          break;
        case 5:
          inject_fault(fake, param);
          break;
        case 6:
          fake.heal_all();
          break;
      }
      for (const auto& [k, v] : model.current) RC_ASSERT(source.row(k) == v);
    }

    // Once Redis is healthy again and the breaker's T has passed, the cache fills again.
    fake.heal_all();
    clock.advance(config.half_open_after);
    source.set_directly("after", "x");
    // (Bounded retries, so that one slow reply of a loaded machine — a 20 ms timeout — does not
    // fail the property; ten in a row would.)
    for (int round = 0; round < 10 && cache.stats().hits == 0; ++round) {
      RC_ASSERT(cache.get("after") == std::optional<std::string>("x"));
      RC_ASSERT(cache.get("after") == std::optional<std::string>("x"));
      clock.advance(config.half_open_after);
    }
    RC_ASSERT(cache.stats().hits >= 1u);
  });
}

}  // namespace
}  // namespace faultline::suites::req_infra_03
