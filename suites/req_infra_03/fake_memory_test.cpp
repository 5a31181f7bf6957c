// REQ-INFRA-03 edge cases on the Redis fake: memory exhaustion under each eviction policy the fake
// models (ET-INFRA-03.1; the LFU policies run against redis-server in the local suite), and a
// network timeout against a paused Redis (ET-INFRA-03.2).
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/core/log.h"
#include "harness/testing/covers.h"
#include "suites/req_infra_03/fake_cache_fixture.h"

namespace faultline::suites::req_infra_03 {
namespace {

using namespace std::chrono_literals;
using clients::BreakerState;
using ::testing::HasSubstr;

// The fake's used_memory is 1 MiB + key + value + 64 per key: room for about 40 entries of 1 KiB.
constexpr std::uint64_t kMaxMemory = (1u << 20) + 48 * 1024;
constexpr int kKeys = 200;

std::string key_of(int i) {
  return "row:" + std::to_string(i);
}
std::string value_of(int i) {
  return std::string(1000, static_cast<char>('a' + i % 26)) + std::to_string(i);
}

class FakeMemoryTest : public FakeCacheTest, public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override {
    start({.maxmemory = kMaxMemory, .maxmemory_policy = GetParam()});
    for (int i = 0; i < kKeys; ++i) source.set_directly(key_of(i), value_of(i));
  }
  // Two passes over every key; every read must return the source's value.
  void read_everything() {
    for (int pass = 0; pass < 2; ++pass)
      for (int i = 0; i < kKeys; ++i) ASSERT_EQ(cache->get(key_of(i)), value_of(i)) << key_of(i);
  }
};

TEST_P(FakeMemoryTest, WritesUnderMemoryExhaustionFollowThePolicy) {
  FAULTLINE_COVERS("ET-INFRA-03.1");
  const std::string policy = GetParam();
  const bool volatile_only = policy.rfind("volatile-", 0) == 0;
  // A key of someone else's without a TTL: volatile-* policies must never evict it.
  ASSERT_EQ(inspect->cmd({"SET", "foreign", std::string(2000, 'f')}), "+OK");
  read_everything();
  const auto h = redis->health();
  const auto s = stats();
  EXPECT_EQ(h.maxmemory_policy, policy);
  EXPECT_EQ(s.hits + s.misses, 2u * kKeys);
  EXPECT_EQ(s.fallbacks, 0u);
  EXPECT_EQ(s.breaker, BreakerState::kClosed) << "memory pressure is not an outage";
  if (policy == "noeviction") {
    EXPECT_EQ(h.evicted_keys, 0u);
    EXPECT_GT(s.writes_skipped, 0u) << "OOM: the populate is skipped, the read still answers";
    EXPECT_GT(s.hits, 0u) << "what fitted before memory ran out is still served";
    EXPECT_EQ(s.populates + s.writes_skipped, s.misses);
  } else {
    EXPECT_LE(h.used_memory, h.maxmemory) << "evicted down to the limit before each command";
    EXPECT_GT(h.evicted_keys, 0u);
    EXPECT_EQ(s.writes_skipped, 0u) << "every entry has a TTL, so every policy can make room";
    EXPECT_EQ(s.populates, s.misses);
  }
  if (volatile_only) {
    EXPECT_EQ(inspect->cmd({"EXISTS", "foreign"}), ":1");
  }
}

using FakeNoRoomTest = FakeMemoryTest;

TEST_P(FakeNoRoomTest, NothingEvictableMeansWritesAreSkippedAndReadsFallBack) {
  FAULTLINE_COVERS("ET-INFRA-03.1");
  // Memory full of keys without a TTL: nothing a volatile-* policy (or noeviction) may evict.
  int pinned = 0;
  while (pinned < 100 &&
         inspect->cmd({"SET", "pinned:" + std::to_string(pinned), std::string(4000, 'p')}) == "+OK")
    ++pinned;
  ASSERT_LT(pinned, 100) << "memory never filled up";
  read_everything();
  const auto s = stats();
  EXPECT_EQ(s.populates, 0u);
  EXPECT_EQ(s.writes_skipped, 2u * kKeys);
  EXPECT_EQ(s.hits, 0u);
  EXPECT_EQ(s.breaker, BreakerState::kClosed);
  EXPECT_EQ(inspect->cmd({"EXISTS", "pinned:0"}), ":1");
}

std::string policy_test_name(const ::testing::TestParamInfo<const char*>& info) {
  std::string name = info.param;
  for (auto& ch : name)
    if (ch == '-') ch = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Policies, FakeMemoryTest,
                         ::testing::Values("noeviction", "allkeys-lru", "allkeys-random",
                                           "volatile-lru", "volatile-random", "volatile-ttl"),
                         policy_test_name);
// The policies that may find nothing to evict (allkeys-* always can).
INSTANTIATE_TEST_SUITE_P(Policies, FakeNoRoomTest,
                         ::testing::Values("noeviction", "volatile-lru", "volatile-random",
                                           "volatile-ttl"),
                         policy_test_name);

class LogCapture {
 public:
  LogCapture() { log::configure({log::Format::json, log::Level::info, &out_}); }
  ~LogCapture() { log::configure({}); }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

TEST_F(FakeCacheTest, TimeoutAgainstAPausedRedisIsGracefulAndLoggedAsAnError) {
  FAULTLINE_COVERS("ET-INFRA-03.2");
  source.set_directly("k", "v1");
  EXPECT_EQ(cache->get("k"), "v1");
  std::string logged;
  {
    LogCapture capture;
    fake->pause(true);
    EXPECT_EQ(cache->get("k"), "v1");  // GET times out: served from the source
    cache->put("k", "v2");             // the DEL times out: the write still succeeds
    EXPECT_EQ(cache->get("k"), "v2");  // third timeout: the breaker opens
    EXPECT_EQ(cache->get("k"), "v2");  // no Redis call at all
    logged = capture.text();
  }
  auto s = stats();
  EXPECT_EQ(s.timeouts, 3u);
  EXPECT_EQ(s.breaker, BreakerState::kOpen);
  EXPECT_EQ(s.fallbacks, 3u);
  EXPECT_THAT(logged, HasSubstr(R"("level":"error")"));
  EXPECT_THAT(logged, HasSubstr("redis command timed out"));
  EXPECT_THAT(logged, HasSubstr(R"("command_timeout_ms":250)"));

  // Heal: the held commands run on Redis now, the stale entry and the late DEL included; whatever
  // order they land in, the client serves the written value and the cache fills again.
  fake->pause(false);
  clock.advance(10s);
  EXPECT_EQ(cache->get("k"), "v2");
  s = stats();
  EXPECT_EQ(s.breaker, BreakerState::kClosed);
  EXPECT_EQ(cache->get("k"), "v2");
  EXPECT_EQ(stats().hits, s.hits + 1);
}

TEST_F(FakeCacheTest, TimeoutsOnlyOnSomeCommandsStillDegrade) {
  FAULTLINE_COVERS("ET-INFRA-03.2");
  source.set_directly("k", "v");
  fake->latency("set", 1h);  // on the ManualClock: the SET is held, GET answers
  EXPECT_EQ(cache->get("k"), "v");
  const auto s = stats();
  EXPECT_EQ(s.timeouts, 1u);
  EXPECT_EQ(s.writes_skipped, 1u);
  EXPECT_EQ(s.breaker, BreakerState::kClosed);
  fake->heal_all();
}

}  // namespace
}  // namespace faultline::suites::req_infra_03
