// IT-INFRA-03 on this machine: a real redis-server (maxmemory 512mb, allkeys-lru) in front of a
// real PostgreSQL 15. A cache-read workload with database fallback runs while Redis is filled to
// its maxmemory, then stopped (SIGSTOP) past the command timeout, then killed, then restarted:
// every read returns the database's value, the filler keys are evicted as allkeys-lru says,
// timeouts are logged as errors, and the cache fills again once Redis is back. Real time
// (RealClock); the waits are bounded conditions, never asserted durations.
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/postgres/testing/real_postgres.h"
#include "harness/clients/cache/cache_client.h"
#include "harness/core/journal.h"
#include "harness/core/log.h"
#include "harness/testing/covers.h"
#include "harness/testing/process_testing.h"
#include "suites/req_infra_03/postgres_source.h"
#include "suites/req_infra_03/stopped_redis.h"

namespace faultline::suites::req_infra_03 {
namespace {

using namespace std::chrono_literals;
using clients::BreakerState;
using ::testing::HasSubstr;

constexpr int kRows = 300;
std::string row_key(int i) {
  return "order:" + std::to_string(i);
}
std::string row_value(int i, int version) {
  return "order " + std::to_string(i) + " v" + std::to_string(version);
}

TEST(CacheIntegration, ReadsFollowTheDatabaseThroughFullMemoryATimeoutAKillAndARestart) {
  FAULTLINE_COVERS("IT-INFRA-03");
  if (auto why = testing::RealRedis::unavailable()) GTEST_SKIP() << *why;
  if (auto why = testing::RealPostgres::unavailable()) GTEST_SKIP() << *why;
  RunDirectory& run = testing::test_run_directory();
  testing::RealPostgres pg(run);
  PostgresSource db(pg.connection_string());
  testing::RealRedis redis_server(
      run, {.maxmemory = "512mb", .policy = "allkeys-lru", .debug_command = true});

  RealClock clock;
  Journal journal(clock);
  clients::CacheConfig cfg;
  cfg.port = redis_server.port();
  cfg.command_timeout = 300ms;
  cfg.connect_timeout = 300ms;
  cfg.default_ttl = 10min;
  cfg.failure_threshold = 3;
  cfg.half_open_after = 100ms;
  cfg.expected_eviction_policy = "allkeys-lru";
  clients::RedisManager redis(cfg);
  clients::CacheClient cache(redis, db, clock, &journal, cfg);

  for (int i = 0; i < kRows; ++i) db.store(row_key(i), row_value(i, 0));
  int version = 0;
  // One pass of the workload: every row read twice, and every tenth rewritten through the cache.
  auto workload = [&] {
    ++version;
    for (int i = 0; i < kRows; ++i) {
      if (i % 10 == 0) cache.put(row_key(i), row_value(i, version));
      const std::string expected = db.load(row_key(i)).value();
      ASSERT_EQ(cache.get(row_key(i)), expected);
      ASSERT_EQ(cache.get(row_key(i)), expected);
    }
  };

  // 1. Redis filled past its maxmemory with keys of someone else's (no TTL).
  std::uint64_t filled = 0;
  for (int round = 0; redis_server.info_number("evicted_keys") == 0 && round < 20; ++round) {
    filled += 10'000;  // 100 MB a round, in 10 KB values
    ASSERT_EQ(
        redis_server.cmd({"DEBUG", "POPULATE", "10000", "fill" + std::to_string(round), "10000"}),
        "OK");
    redis_server.cmd({"PING"});  // a command: redis-server evicts before running it
  }
  ASSERT_GT(redis_server.info_number("evicted_keys"), 0u) << "Redis never reached maxmemory";
  workload();
  auto s = cache.stats();
  EXPECT_EQ(s.fallbacks, 0u);
  EXPECT_GT(s.populates, 0u);
  EXPECT_GT(s.hits, 0u);
  EXPECT_EQ(s.writes_skipped, 0u) << "allkeys-lru always makes room";
  // allkeys-lru evicts keys without a TTL too: fewer filler keys than were written.
  const auto keys = std::stoull(redis_server.cmd({"DBSIZE"}));
  EXPECT_LT(keys, filled);
  EXPECT_TRUE(testing::wait_until([&] {
    return redis_server.info_number("used_memory") <= redis_server.info_number("maxmemory");
  }));

  // 2. Stopped past its timeout: served from PostgreSQL, timeouts logged as errors.
  std::ostringstream logged;
  log::configure({log::Format::json, log::Level::info, &logged});
  {
    StoppedRedis stopped(run, redis_server);
    workload();
    // 3. Killed while stopped.
    redis_server.kill();
    workload();
  }
  log::configure({});
  s = cache.stats();
  EXPECT_GE(s.timeouts, 1u);
  EXPECT_GE(s.breaker_opens, 1u);
  EXPECT_THAT(logged.str(), HasSubstr(R"("level":"error")"));
  EXPECT_THAT(logged.str(), HasSubstr("redis command timed out"));

  // 4. Back (empty, same port): the breaker's probe closes it and the cache fills again.
  redis_server.start();
  ASSERT_TRUE(testing::wait_until([&] {
    cache.get(row_key(1));
    return cache.breaker_state() == BreakerState::kClosed;
  }));
  const auto before = cache.stats();
  workload();
  s = cache.stats();
  EXPECT_EQ(s.fallbacks, before.fallbacks);
  EXPECT_GE(s.hits - before.hits, static_cast<std::uint64_t>(kRows)) << "the second reads hit";
  EXPECT_GE(s.breaker_recoveries, 1u);
  bool recovery_journaled = false;
  for (const auto& e : journal.events())
    if (e.kind == "cache.breaker" && e.fields["to"] == "closed") recovery_journaled = true;
  EXPECT_TRUE(recovery_journaled);
}

}  // namespace
}  // namespace faultline::suites::req_infra_03
