// FakeCacheTest: a RedisFake on a ManualClock, a CacheClient in front of a MapSource, a Journal,
// and a raw hiredis client to look at what the cache stored. The Redis fake and the client share
// the ManualClock, so advancing it expires Redis keys and the client's entries at the same instant.
//
// Network timeouts are real time (they guard sockets); they are short here so that a paused fake
// costs each call 250 ms. No test asserts how long anything took.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "fakes/redis/server.h"
#include "fakes/redis/test_client.h"
#include "harness/clients/cache/cache_client.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/core/journal.h"
#include "suites/req_infra_03/map_source.h"

namespace faultline::suites::req_infra_03 {

inline clients::CacheConfig fake_cache_config(std::uint16_t port) {
  clients::CacheConfig c;
  c.port = port;
  c.connect_timeout = std::chrono::milliseconds(250);
  c.command_timeout = std::chrono::milliseconds(250);
  c.default_ttl = std::chrono::seconds(60);
  c.failure_threshold = 3;
  c.half_open_after = std::chrono::seconds(10);
  c.key_prefix = "c:";
  return c;
}

class FakeCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  // (Re)starts the fake with `options` and builds a fresh client against it.
  void start(fakes::redis::RedisFakeOptions options,
             std::optional<clients::CacheConfig> config = std::nullopt) {
    cache.reset();
    redis.reset();
    inspect.reset();
    fake.reset();
    options.seed = 42;
    options.journal = &journal;
    fake = std::make_unique<fakes::redis::RedisFake>(loop, clock, options);
    fake->start();
    cfg = config.value_or(fake_cache_config(fake->port()));
    cfg.port = fake->port();
    redis = std::make_unique<clients::RedisManager>(cfg);
    cache = std::make_unique<clients::CacheClient>(*redis, source, clock, &journal, cfg);
    inspect = std::make_unique<fakes::redis::testing::RedisTestClient>(
        fakes::redis::testing::RedisTestClient::tcp("127.0.0.1", fake->port()));
  }

  // What Redis holds under the cache key of `key`, rendered ("$(nil)" if absent).
  std::string raw(const std::string& key) { return inspect->cmd({"GET", cfg.key_prefix + key}); }
  clients::CacheStats stats() const { return cache->stats(); }

  ManualClock clock;
  Journal journal{clock};
  EventLoop loop;
  MapSource source;
  clients::CacheConfig cfg;
  std::unique_ptr<fakes::redis::RedisFake> fake;
  std::unique_ptr<clients::RedisManager> redis;
  std::unique_ptr<clients::CacheClient> cache;
  std::unique_ptr<fakes::redis::testing::RedisTestClient> inspect;
};

}  // namespace faultline::suites::req_infra_03
