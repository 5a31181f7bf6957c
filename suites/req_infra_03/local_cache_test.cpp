// REQ-INFRA-03 against a real redis-server on this machine (label local): connection settings,
// cache-aside with TTL, memory exhaustion under every maxmemory-policy redis-server has (LFU ones
// included), a network timeout against a SIGSTOPped server, and a killed and restarted server.
//
// The client runs on a ManualClock here too: redis-server's own expiry does not follow it, and
// the client's deadline check is what keeps values from being served past their TTL (the test
// NoValueServedPastTtlOnTheHarnessClock shows it). Network timeouts are real time.
#include <signal.h>

#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/clients/cache/cache_client.h"
#include "harness/core/journal.h"
#include "harness/core/log.h"
#include "harness/testing/covers.h"
#include "harness/testing/process_testing.h"
#include "suites/req_infra_03/map_source.h"
#include "suites/req_infra_03/stopped_redis.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("req_infra_03_local");

namespace faultline::suites::req_infra_03 {
namespace {

using namespace std::chrono_literals;
using clients::BreakerState;
using clients::RedisFailure;
using ::testing::HasSubstr;

class LocalCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::RealRedis::unavailable()) GTEST_SKIP() << *why;
  }
  void start(const std::string& policy = "noeviction", int database = 0) {
    server = std::make_unique<testing::RealRedis>(
        testing::test_run_directory(),
        testing::RealRedisOptions{.maxmemory = "0", .policy = policy, .debug_command = true});
    cfg.port = server->port();
    cfg.database = database;
    cfg.connect_timeout = 250ms;
    cfg.command_timeout = 250ms;
    cfg.default_ttl = 60s;
    cfg.failure_threshold = 3;
    cfg.half_open_after = 10s;
    cfg.key_prefix = "c:";
    redis = std::make_unique<clients::RedisManager>(cfg);
    cache = std::make_unique<clients::CacheClient>(*redis, source, clock, &journal, cfg);
  }
  // Leaves `room` bytes between what redis-server uses now and its maxmemory.
  void limit_memory(std::uint64_t room) {
    ASSERT_EQ(server->cmd({"CONFIG", "SET", "maxmemory",
                           std::to_string(server->info_number("used_memory") + room)}),
              "OK");
  }

  ManualClock clock;
  Journal journal{clock};
  MapSource source;
  clients::CacheConfig cfg;
  std::unique_ptr<testing::RealRedis> server;
  std::unique_ptr<clients::RedisManager> redis;
  std::unique_ptr<clients::CacheClient> cache;
};

class LogCapture {
 public:
  LogCapture() { log::configure({log::Format::json, log::Level::info, &out_}); }
  ~LogCapture() { log::configure({}); }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

TEST_F(LocalCacheTest, InitializeConnectsToRedisServerWithTheConfiguredSettings) {
  FAULTLINE_COVERS("UT-INFRA-03.1");
  start("allkeys-lru", 5);
  EXPECT_EQ(redis->connect(), RedisFailure::kNone);
  const auto h = redis->health();
  ASSERT_TRUE(h.reachable) << h.error;
  EXPECT_THAT(h.redis_version, ::testing::StartsWith("7."));
  EXPECT_EQ(h.maxmemory_policy, "allkeys-lru");
  EXPECT_EQ(h.role, "master");
  EXPECT_GT(h.used_memory, 0u);
  source.set_directly("k", "v");
  EXPECT_EQ(cache->get("k"), "v");
  EXPECT_EQ(server->cmd({"EXISTS", "c:k"}), "0") << "not in database 0";
  // PTTL in database 5 through the client's own connection.
  const auto pttl = redis->command({"PTTL", "c:k"});
  EXPECT_GT(pttl.integer, 59000);
  EXPECT_LE(pttl.integer, 60000);
}

TEST_F(LocalCacheTest, MissLoadsFromTheSourceAndCachesTheResult) {
  FAULTLINE_COVERS("UT-INFRA-03.2");
  start();
  source.set_directly("k", "v1");
  EXPECT_EQ(cache->get("k"), "v1");
  EXPECT_EQ(cache->get("k"), "v1");
  EXPECT_EQ(source.loads(), 1u);
  EXPECT_EQ(cache->stats().hits, 1u);
  cache->put("k", "v2");
  EXPECT_EQ(server->cmd({"EXISTS", "c:k"}), "0");
  EXPECT_EQ(cache->get("k"), "v2");
}

TEST_F(LocalCacheTest, NoValueServedPastTtlOnTheHarnessClock) {
  start();
  source.set_directly("k", "v1");
  EXPECT_EQ(cache->get("k"), "v1");
  source.set_directly("k", "v2");
  clock.advance(60s);  // simulated: redis-server still holds the key for another minute
  EXPECT_EQ(server->cmd({"EXISTS", "c:k"}), "1");
  EXPECT_EQ(cache->get("k"), "v2");
}

TEST_F(LocalCacheTest, KilledRedisDegradesToTheSourceAndRecoversWhenItIsBack) {
  FAULTLINE_COVERS("UT-INFRA-03.3");
  start();
  source.set_directly("k", "v");
  EXPECT_EQ(cache->get("k"), "v");
  server->kill();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(cache->get("k"), "v");
  EXPECT_EQ(cache->stats().breaker, BreakerState::kOpen);
  EXPECT_EQ(cache->stats().fallbacks, 5u);
  server->start();  // empty, on the same port
  clock.advance(10s);
  EXPECT_EQ(cache->get("k"), "v");
  EXPECT_EQ(cache->get("k"), "v");
  const auto s = cache->stats();
  EXPECT_EQ(s.breaker, BreakerState::kClosed);
  EXPECT_EQ(s.breaker_recoveries, 1u);
  EXPECT_EQ(s.misses, 2u) << "before the kill, and on the empty restarted server";
  EXPECT_EQ(s.hits, 1u) << "the cache fills again";
}

class LocalMemoryTest : public LocalCacheTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(LocalMemoryTest, WritesUnderMemoryExhaustionFollowThePolicy) {
  FAULTLINE_COVERS("ET-INFRA-03.1");
  const std::string policy = GetParam();
  start(policy);
  ASSERT_EQ(server->cmd({"SET", "foreign", std::string(2000, 'f')}), "OK");
  limit_memory(1 << 20);
  constexpr int kKeys = 1500;  // 2 KB each: three times the room
  for (int i = 0; i < kKeys; ++i)
    source.set_directly("row:" + std::to_string(i), std::string(2000, 'a' + i % 26));
  for (int pass = 0; pass < 2; ++pass)
    for (int i = 0; i < kKeys; ++i)
      ASSERT_EQ(cache->get("row:" + std::to_string(i)), source.row("row:" + std::to_string(i)));
  const auto h = redis->health();
  const auto s = cache->stats();
  EXPECT_EQ(h.maxmemory_policy, policy);
  EXPECT_EQ(s.fallbacks, 0u);
  EXPECT_EQ(s.breaker, BreakerState::kClosed);
  if (policy == "noeviction") {
    EXPECT_EQ(h.evicted_keys, 0u);
    EXPECT_GT(s.writes_skipped, 0u);
    EXPECT_GT(s.hits, 0u);
  } else {
    EXPECT_GT(h.evicted_keys, 0u);
    EXPECT_EQ(s.writes_skipped, 0u);
  }
  if (policy.rfind("volatile-", 0) == 0) {
    EXPECT_EQ(server->cmd({"EXISTS", "foreign"}), "1") << "no TTL: never evicted by " << policy;
  }
}

TEST_P(LocalMemoryTest, NothingEvictableMeansWritesAreSkippedAndReadsFallBack) {
  FAULTLINE_COVERS("ET-INFRA-03.1");
  const std::string policy = GetParam();
  start(policy);
  limit_memory(256 << 10);
  // 2 MB of keys without a TTL: more than the room, and nothing volatile-* may evict.
  ASSERT_EQ(server->cmd({"DEBUG", "POPULATE", "1000", "pinned", "2000"}), "OK");
  source.set_directly("k", "v");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(cache->get("k"), "v");
  const auto s = cache->stats();
  if (policy.rfind("allkeys-", 0) == 0) {
    // (Whether the entry itself survives the eviction still under way is up to the policy's
    // sampling: a hit is not guaranteed, the write being accepted is.)
    EXPECT_EQ(s.writes_skipped, 0u) << policy << " evicts the pinned keys";
    EXPECT_GT(server->info_number("evicted_keys"), 0u);
  } else {
    EXPECT_EQ(s.writes_skipped, 3u);
    EXPECT_EQ(s.hits, 0u);
    EXPECT_EQ(server->cmd({"DBSIZE"}), "1000");
  }
  EXPECT_EQ(s.breaker, BreakerState::kClosed);
}

INSTANTIATE_TEST_SUITE_P(Policies, LocalMemoryTest,
                         ::testing::Values("noeviction", "allkeys-lru", "allkeys-lfu",
                                           "allkeys-random", "volatile-lru", "volatile-lfu",
                                           "volatile-random", "volatile-ttl"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (auto& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

TEST_F(LocalCacheTest, TimeoutAgainstAStoppedRedisServerIsGracefulAndLogged) {
  FAULTLINE_COVERS("ET-INFRA-03.2");
  start();
  source.set_directly("k", "v1");
  EXPECT_EQ(cache->get("k"), "v1");
  std::string logged;
  {
    StoppedRedis stopped(testing::test_run_directory(), *server);
    LogCapture capture;
    EXPECT_EQ(cache->get("k"), "v1");
    cache->put("k", "v2");
    EXPECT_EQ(cache->get("k"), "v2");
    EXPECT_EQ(cache->get("k"), "v2");
    logged = capture.text();
  }  // SIGCONT here, whatever happened above
  auto s = cache->stats();
  EXPECT_EQ(s.timeouts, 3u);
  EXPECT_EQ(s.breaker, BreakerState::kOpen);
  EXPECT_THAT(logged, HasSubstr(R"("level":"error")"));
  EXPECT_THAT(logged, HasSubstr("redis command timed out"));
  clock.advance(10s);
  EXPECT_EQ(cache->get("k"), "v2");
  EXPECT_EQ(cache->get("k"), "v2");
  s = cache->stats();
  EXPECT_EQ(s.breaker, BreakerState::kClosed);
  EXPECT_EQ(s.hits, 1u) << "the late DEL of the put ran after SIGCONT; then it filled again";
}

}  // namespace
}  // namespace faultline::suites::req_infra_03
