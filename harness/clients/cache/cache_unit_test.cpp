// Unit tests of the cache client's parts that need no server: configuration validation, the entry
// envelope, and the circuit breaker on a ManualClock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/clients/cache/cache_config.h"
#include "harness/clients/cache/cache_entry.h"
#include "harness/clients/cache/circuit_breaker.h"
#include "harness/clients/cache/redis_manager.h"
#include "harness/core/error.h"
#include "harness/core/journal.h"

namespace faultline::clients {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

template <class Change>
std::string rejection(Change change) {
  CacheConfig config;
  change(config);
  try {
    config.validate();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(CacheConfig, DefaultsAreValid) {
  EXPECT_EQ(rejection([](CacheConfig&) {}), "");
}

TEST(CacheConfig, RejectsZeroAndNegativeValuesNamingTheField) {
  EXPECT_THAT(rejection([](CacheConfig& c) { c.port = 0; }), HasSubstr("port must be in 1..65535"));
  EXPECT_THAT(rejection([](CacheConfig& c) { c.port = 70000; }), HasSubstr("got 70000"));
  EXPECT_THAT(rejection([](CacheConfig& c) { c.database = -1; }), HasSubstr("database"));
  EXPECT_THAT(rejection([](CacheConfig& c) { c.connect_timeout = 0ms; }),
              HasSubstr("connect_timeout must be > 0"));
  EXPECT_THAT(rejection([](CacheConfig& c) { c.command_timeout = -5ms; }),
              HasSubstr("command_timeout must be > 0 ms, got -5"));
  EXPECT_THAT(rejection([](CacheConfig& c) { c.default_ttl = 0s; }), HasSubstr("default_ttl"));
  EXPECT_THAT(rejection([](CacheConfig& c) { c.default_ttl = 10us; }), HasSubstr("at least 1 ms"));
  EXPECT_THAT(rejection([](CacheConfig& c) { c.failure_threshold = 0; }),
              HasSubstr("failure_threshold must be >= 1, got 0"));
  EXPECT_THAT(rejection([](CacheConfig& c) { c.half_open_after = -1s; }),
              HasSubstr("half_open_after must be > 0"));
  EXPECT_THAT(rejection([](CacheConfig& c) { c.host = ""; }), HasSubstr("host"));
  EXPECT_THAT(rejection([](CacheConfig& c) { c.name = ""; }), HasSubstr("name"));
}

TEST(CacheConfig, UnknownEvictionPolicyGetsDidYouMean) {
  EXPECT_THAT(rejection([](CacheConfig& c) { c.expected_eviction_policy = "allkeys-lur"; }),
              HasSubstr("'allkeys-lur' is not a Redis maxmemory-policy (did you mean "
                        "'allkeys-lru'?)"));
  for (const auto& name : eviction_policy_names())
    EXPECT_EQ(rejection([&](CacheConfig& c) { c.expected_eviction_policy = name; }), "") << name;
}

TEST(CacheConfig, ConstructorsValidate) {
  CacheConfig bad;
  bad.failure_threshold = -3;
  EXPECT_THROW(RedisManager{bad}, InputError);
}

TEST(CacheEntry, RoundTripsBinaryValuesWithColons) {
  const std::string value = std::string("a:b\0c:", 6) + "\xff";
  const CacheEntry e{123456789, 42, value};
  const auto back = CacheEntry::decode(e.encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->deadline_ns, 123456789);
  EXPECT_EQ(back->seq, 42u);
  EXPECT_EQ(back->value, value);
}

TEST(CacheEntry, RejectsForeignAndTruncatedValues) {
  EXPECT_FALSE(CacheEntry::decode("plain value"));
  EXPECT_FALSE(CacheEntry::decode("flc1:"));
  EXPECT_FALSE(CacheEntry::decode("flc1:12"));
  EXPECT_FALSE(CacheEntry::decode("flc1:12:"));
  EXPECT_FALSE(CacheEntry::decode("flc1:x:1:v"));
  EXPECT_FALSE(CacheEntry::decode("flc1:1:-1:v"));
  EXPECT_TRUE(CacheEntry::decode("flc1:-5:1:"));  // empty value, deadline before the epoch
}

class Breaker : public ::testing::Test {
 protected:
  ManualClock clock;
  Journal journal{clock};
  CircuitBreaker breaker{clock, 3, 10s, &journal, "cache:test"};
};

TEST_F(Breaker, OpensAfterThresholdConsecutiveFailures) {
  breaker.record_failure("x");
  breaker.record_failure("x");
  breaker.record_success();  // resets the count
  breaker.record_failure("x");
  breaker.record_failure("x");
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  EXPECT_EQ(breaker.allow(), CircuitBreaker::Decision::kAllow);
  breaker.record_failure("GET: timeout");
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
  EXPECT_EQ(breaker.allow(), CircuitBreaker::Decision::kReject);
  EXPECT_EQ(breaker.opens(), 1u);
}

TEST_F(Breaker, ProbesOnceAfterHalfOpenDelayOnTheClock) {
  for (int i = 0; i < 3; ++i) breaker.record_failure("refused");
  clock.advance(9999ms);
  EXPECT_EQ(breaker.allow(), CircuitBreaker::Decision::kReject);
  clock.advance(1ms);
  EXPECT_EQ(breaker.allow(), CircuitBreaker::Decision::kProbe);
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  EXPECT_EQ(breaker.allow(), CircuitBreaker::Decision::kReject) << "one probe at a time";
  breaker.record_failure("still refused");
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
  EXPECT_EQ(breaker.allow(), CircuitBreaker::Decision::kReject) << "a failed probe re-opens for T";
  clock.advance(10s);
  EXPECT_EQ(breaker.allow(), CircuitBreaker::Decision::kProbe);
  breaker.record_success();
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  EXPECT_EQ(breaker.allow(), CircuitBreaker::Decision::kAllow);
  EXPECT_EQ(breaker.opens(), 1u);
  EXPECT_EQ(breaker.recoveries(), 1u);
  EXPECT_EQ(breaker.probes(), 2u);
}

TEST_F(Breaker, JournalsEveryTransitionAndTheOutageLengthOnRecovery) {
  for (int i = 0; i < 3; ++i) breaker.record_failure("refused");
  clock.advance(25s);
  ASSERT_EQ(breaker.allow(), CircuitBreaker::Decision::kProbe);
  breaker.record_success();
  std::vector<std::string> path;
  for (const auto& e : journal.events()) {
    ASSERT_EQ(e.kind, "cache.breaker");
    EXPECT_EQ(e.subject, "cache:test");
    path.push_back(e.fields["to"].get<std::string>());
  }
  EXPECT_EQ(path, (std::vector<std::string>{"open", "half_open", "closed"}));
  EXPECT_EQ(journal.events().back().fields["open_ns"].get<std::int64_t>(),
            std::chrono::nanoseconds(25s).count());
}

}  // namespace
}  // namespace faultline::clients
