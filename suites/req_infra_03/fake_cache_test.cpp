// REQ-INFRA-03 on the Redis fake: connection settings, cache-aside reads with TTL on the harness
// clock, write-through with invalidation, and graceful degradation to the source.
#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/clients/cache/cache_entry.h"
#include "harness/testing/covers.h"
#include "suites/req_infra_03/fake_cache_fixture.h"

namespace faultline::suites::req_infra_03 {
namespace {

using namespace std::chrono_literals;
using clients::BreakerState;
using clients::RedisFailure;

TEST_F(FakeCacheTest, InitializeConnectsWithTheConfiguredSettings) {
  FAULTLINE_COVERS("UT-INFRA-03.1");
  auto config = fake_cache_config(0);
  config.database = 3;
  config.default_ttl = 1500ms;
  start({}, config);
  EXPECT_FALSE(redis->connected()) << "construction does not dial";
  EXPECT_EQ(redis->connect(), RedisFailure::kNone);
  EXPECT_TRUE(redis->connected());
  EXPECT_EQ(redis->connects(), 1u);
  const auto health = redis->health();
  EXPECT_TRUE(health.reachable);
  EXPECT_EQ(health.maxmemory_policy, "noeviction");
  EXPECT_EQ(health.role, "master");

  source.set_directly("k", "v");
  EXPECT_EQ(cache->get("k"), "v");
  // The entry is in database 3, under the prefix, with the TTL in milliseconds.
  EXPECT_EQ(inspect->cmd({"EXISTS", "c:k"}), ":0");
  EXPECT_EQ(inspect->cmd({"SELECT", "3"}), "+OK");
  EXPECT_EQ(inspect->cmd({"PTTL", "c:k"}), ":1500");
  EXPECT_EQ(redis->connects(), 1u) << "one connection, reused";
}

TEST_F(FakeCacheTest, InitializeReportsAnUnreachableRedisWithoutThrowing) {
  FAULTLINE_COVERS("UT-INFRA-03.1");
  fake->stop();
  EXPECT_EQ(redis->connect(), RedisFailure::kRefused);
  const auto health = redis->health();
  EXPECT_FALSE(health.reachable);
  EXPECT_EQ(health.failure, RedisFailure::kRefused);
}

TEST_F(FakeCacheTest, MissLoadsFromTheSourceAndCachesTheResult) {
  FAULTLINE_COVERS("UT-INFRA-03.2");
  source.set_directly("order:1", "filled");
  EXPECT_EQ(cache->get("order:1"), "filled");
  EXPECT_EQ(source.loads(), 1u);
  const auto entry = clients::CacheEntry::decode(raw("order:1").substr(1));
  ASSERT_TRUE(entry) << raw("order:1");
  EXPECT_EQ(entry->value, "filled");
  EXPECT_EQ(entry->deadline_ns, (clock.now() + 60s).time_since_epoch().count());

  EXPECT_EQ(cache->get("order:1"), "filled");
  EXPECT_EQ(source.loads(), 1u) << "the second read is a hit";
  const auto s = stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.populates, 1u);
  EXPECT_EQ(s.fallbacks, 0u);
}

TEST_F(FakeCacheTest, AbsentKeysAreNotCached) {
  FAULTLINE_COVERS("UT-INFRA-03.2");
  EXPECT_EQ(cache->get("nope"), std::nullopt);
  EXPECT_EQ(cache->get("nope"), std::nullopt);
  EXPECT_EQ(source.loads(), 2u);
  EXPECT_EQ(raw("nope"), "$(nil)");
}

TEST_F(FakeCacheTest, NoValueIsServedPastItsTtl) {
  source.set_directly("k", "v1");
  EXPECT_EQ(cache->get("k"), "v1");
  source.set_directly("k", "v2");  // behind the cache's back: staleness bounded by the TTL
  clock.advance(60s - 1ns);
  EXPECT_EQ(cache->get("k"), "v1");
  clock.advance(1ns);
  EXPECT_EQ(cache->get("k"), "v2");
}

TEST_F(FakeCacheTest, ClientSideTtlHoldsWhenRedisKeepsTheKeyLonger) {
  // Redis on another clock (as a real redis-server is, when the harness clock is simulated): it
  // never expires the key, and the client still refuses to serve it past its deadline.
  ManualClock redis_clock;
  fakes::redis::RedisFake other(loop, redis_clock, {});
  other.start();
  auto config = fake_cache_config(other.port());
  clients::RedisManager other_redis(config);
  clients::CacheClient other_cache(other_redis, source, clock, nullptr, config);
  source.set_directly("k", "v1");
  EXPECT_EQ(other_cache.get("k"), "v1");
  source.set_directly("k", "v2");
  clock.advance(60s);
  EXPECT_EQ(other_cache.get("k"), "v2");
  EXPECT_EQ(other_cache.stats().stale_rejected, 1u);
}

TEST_F(FakeCacheTest, PutWritesThroughAndInvalidates) {
  source.set_directly("k", "v1");
  EXPECT_EQ(cache->get("k"), "v1");
  cache->put("k", "v2");
  EXPECT_EQ(source.row("k"), "v2");
  EXPECT_EQ(raw("k"), "$(nil)");
  EXPECT_EQ(cache->get("k"), "v2");
  EXPECT_EQ(cache->get("k"), "v2");
  EXPECT_EQ(stats().hits, 1u);
}

TEST_F(FakeCacheTest, SourceErrorsReachTheCallerAndNothingIsCached) {
  source.fail(true);
  EXPECT_THROW(cache->get("k"), std::runtime_error);
  EXPECT_THROW(cache->put("k", "v"), std::runtime_error);
  source.fail(false);
  EXPECT_EQ(raw("k"), "$(nil)");
  EXPECT_EQ(stats().breaker, BreakerState::kClosed) << "a database error is not a Redis failure";
}

TEST_F(FakeCacheTest, ForeignValuesUnderTheKeyAreTreatedAsMisses) {
  source.set_directly("k", "v");
  EXPECT_EQ(inspect->cmd({"SET", "c:k", "not an envelope"}), "+OK");
  EXPECT_EQ(cache->get("k"), "v");
  EXPECT_EQ(cache->get("k"), "v");
  EXPECT_EQ(stats().hits, 1u);
  EXPECT_EQ(inspect->cmd({"HSET", "c:h", "f", "x"}), ":1");  // WRONGTYPE for GET
  source.set_directly("h", "hv");
  EXPECT_EQ(cache->get("h"), "hv");
}

// Each Redis failure the issue names: the caller gets the source's value and no error.
TEST_F(FakeCacheTest, EveryRedisFailureDegradesToTheSource) {
  FAULTLINE_COVERS("UT-INFRA-03.3");
  source.set_directly("k", "v");
  struct Case {
    const char* name;
    std::function<void()> inject;
  };
  const std::vector<Case> cases = {
      {"refused",
       [&] {
         fake->refuse_connections(true);
         fake->close_all_clients();
       }},
      {"timeout (paused)", [&] { fake->pause(true); }},
      {"timeout (latency)", [&] { fake->latency("*", 1h); }},
      {"loading", [&] { fake->loading(true); }},
      {"busy", [&] { fake->command_error("get", "BUSY Redis is busy running a script."); }},
      {"connection lost", [&] { fake->close_after(0); }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    start({});
    source.set_directly("k", "v");
    c.inject();
    const auto loads = source.loads();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(cache->get("k"), "v");
    EXPECT_EQ(source.loads(), loads + 5);
    const auto s = stats();
    EXPECT_EQ(s.fallbacks, 5u);
    EXPECT_EQ(s.hits, 0u);
    EXPECT_EQ(s.breaker, BreakerState::kOpen);
    EXPECT_EQ(s.redis_errors, 3u) << "Redis is not contacted once the breaker is open";
    fake->heal_all();
  }
}

TEST_F(FakeCacheTest, BreakerProbesAfterTOnTheClockAndJournalsTheRecovery) {
  FAULTLINE_COVERS("UT-INFRA-03.3");
  source.set_directly("k", "v");
  fake->refuse_connections(true);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(cache->get("k"), "v");
  ASSERT_EQ(stats().breaker, BreakerState::kOpen);
  clock.advance(10s);
  EXPECT_EQ(cache->get("k"), "v");  // the probe fails: open again for another 10 s
  EXPECT_EQ(stats().breaker, BreakerState::kOpen);
  EXPECT_EQ(stats().redis_errors, 4u);
  fake->refuse_connections(false);
  clock.advance(9s);
  EXPECT_EQ(cache->get("k"), "v");
  EXPECT_EQ(stats().redis_errors, 4u) << "no contact before T";
  clock.advance(1s);
  EXPECT_EQ(cache->get("k"), "v");  // probe succeeds, then the read misses and repopulates
  EXPECT_EQ(stats().breaker, BreakerState::kClosed);
  EXPECT_EQ(cache->get("k"), "v");
  const auto s = stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.breaker_opens, 1u);
  EXPECT_EQ(s.breaker_recoveries, 1u);
  std::vector<std::string> transitions;
  std::int64_t open_ns = -1;
  for (const auto& e : journal.events()) {
    if (e.kind != "cache.breaker") continue;
    transitions.push_back(e.fields["to"].get<std::string>());
    if (e.fields.contains("open_ns")) open_ns = e.fields["open_ns"].get<std::int64_t>();
  }
  EXPECT_EQ(transitions,
            (std::vector<std::string>{"open", "half_open", "open", "half_open", "closed"}));
  EXPECT_EQ(open_ns, std::chrono::nanoseconds(20s).count());
}

TEST_F(FakeCacheTest, WritesDuringAnOutageNeverLeaveAStaleValueServed) {
  FAULTLINE_COVERS("UT-INFRA-03.3");
  source.set_directly("k", "v1");
  EXPECT_EQ(cache->get("k"), "v1");  // cached
  fake->readonly(true);              // the DEL of the next write is refused
  cache->put("k", "v2");
  EXPECT_EQ(source.row("k"), "v2");
  EXPECT_NE(raw("k"), "$(nil)") << "the old entry is still in Redis";
  fake->readonly(false);
  EXPECT_EQ(cache->get("k"), "v2") << "the entry predates the write: rejected";
  EXPECT_EQ(stats().stale_rejected, 1u);
  EXPECT_EQ(cache->get("k"), "v2");
  EXPECT_EQ(stats().hits, 1u);

  fake->refuse_connections(true);
  fake->close_all_clients();
  for (int i = 0; i < 3; ++i) cache->put("k", "v" + std::to_string(3 + i));  // opens the breaker
  EXPECT_EQ(stats().breaker, BreakerState::kOpen);
  cache->put("k", "v6");  // skipped entirely while open
  fake->refuse_connections(false);
  clock.advance(10s);
  EXPECT_EQ(cache->get("k"), "v6");
}

// Several threads reading and writing through one client while faults come and go (run under
// TSan too): no call fails, and once Redis is healthy every key reads what the source holds.
TEST_F(FakeCacheTest, ConcurrentCallersStayCoherentThroughFaults) {
  FAULTLINE_COVERS("PT-INFRA-03.1");
  for (int k = 0; k < 4; ++k) source.set_directly("k" + std::to_string(k), "initial");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string key = "k" + std::to_string((t + i) % 4);
        try {
          if (i % 5 == 0) {
            cache->put(key, "t" + std::to_string(t) + "-" + std::to_string(i));
          } else if (!cache->get(key)) {
            ++failures;
          }
        } catch (const std::exception&) {
          ++failures;
        }
      }
    });
  }
  for (int round = 0; round < 30; ++round) {
    switch (round % 3) {
      case 0:
        fake->readonly(true);
        break;
      case 1:
        fake->close_all_clients();
        break;
      case 2:
        fake->oom(true);
        break;
    }
    fake->heal_all();
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  fake->heal_all();
  clock.advance(10s);
  for (int k = 0; k < 4; ++k) {
    const std::string key = "k" + std::to_string(k);
    EXPECT_EQ(cache->get(key), source.row(key)) << key;
    EXPECT_EQ(cache->get(key), source.row(key)) << key;
  }
}

}  // namespace
}  // namespace faultline::suites::req_infra_03
