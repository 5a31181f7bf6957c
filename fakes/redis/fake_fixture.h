// A started RedisFake on a ManualClock plus a hiredis client, for the fake's own tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fakes/redis/keyspace.h"
#include "fakes/redis/server.h"
#include "fakes/redis/test_client.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"

namespace faultline::fakes::redis::testing {

class FakeRedisTest : public ::testing::Test {
 protected:
  void SetUp() override { start(RedisFakeOptions()); }

  void start(RedisFakeOptions options) {
    client.reset();
    fake.reset();
    options.seed = 42;
    fake = std::make_unique<RedisFake>(loop, clock, options);
    fake->start();
    unix_path = options.unix_path.string();
    client = std::make_unique<RedisTestClient>(connect());
  }

  RedisTestClient connect() {
    if (!unix_path.empty()) return RedisTestClient::unix_socket(unix_path);
    return RedisTestClient::tcp("127.0.0.1", fake->port());
  }
  std::string cmd(const std::vector<std::string>& argv) { return client->cmd(argv); }
  std::string info_field(const std::string& section, const std::string& field) {
    const std::string info = cmd({"INFO", section});
    const auto at = info.find("\r\n" + field + ":");
    if (at == std::string::npos) return "";
    const auto start = at + field.size() + 3;
    return info.substr(start, info.find("\r\n", start) - start);
  }

  std::string unix_path;
  ManualClock clock;
  EventLoop loop;
  std::unique_ptr<RedisFake> fake;
  std::unique_ptr<RedisTestClient> client;
};

}  // namespace faultline::fakes::redis::testing
