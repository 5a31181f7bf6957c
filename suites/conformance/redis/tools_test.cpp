// Real client tools against the fake: redis-cli (its output must be the same as against
// redis-server, including with -3, which falls back to RESP2 when the fake refuses HELLO 3) and a
// short bounded redis-benchmark run.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "suites/conformance/redis/redis_pair.h"

namespace faultline::conformance::redis {
namespace {

using namespace std::chrono_literals;

class RedisTools : public ::testing::Test {
 protected:
  void need(const std::string& tool) {
    if (find_program(tool).empty()) GTEST_SKIP() << tool << " is not installed (redis-tools)";
  }
  ToolResult cli(std::uint16_t port, std::vector<std::string> args) {
    std::vector<std::string> argv = {"redis-cli", "-p", std::to_string(port)};
    argv.insert(argv.end(), args.begin(), args.end());
    return RedisPair::get().run_tool(argv, 30s);
  }
};

TEST_F(RedisTools, RedisCliPrintsTheSameAgainstTheFakeAsAgainstRedisServer) {
  need("redis-cli");
  auto& pair = RedisPair::get();
  const bool have_real = pair.skip_reason().empty();
  if (have_real) pair.reset();
  const std::vector<std::vector<std::string>> sessions = {
      {"SET", "cli:k", "hello world"},
      {"GET", "cli:k"},
      {"--no-raw", "GET", "cli:k"},
      {"--no-raw", "HGETALL", "cli:none"},
      {"RPUSH", "cli:l", "a", "b"},
      {"--no-raw", "LRANGE", "cli:l", "0", "-1"},
      {"NOSUCH", "x"},
      {"-3", "PING"},
      {"-3", "GET", "cli:k"},
      {"--no-raw", "INCR", "cli:k"},
  };
  for (const auto& args : sessions) {
    const ToolResult on_fake = cli(pair.fake_port(), args);
    EXPECT_TRUE(on_fake.ok) << args.back() << ": " << on_fake.status;
    if (!have_real) continue;
    const ToolResult on_real = cli(pair.real_port(), args);
    EXPECT_EQ(on_fake.output, on_real.output) << "redis-cli " << args.back();
  }
  EXPECT_EQ(cli(pair.fake_port(), {"GET", "cli:k"}).output, "hello world\n");
  const auto info = cli(pair.fake_port(), {"INFO", "memory"});
  EXPECT_NE(info.output.find("maxmemory_policy:noeviction"), std::string::npos) << info.output;
  if (!have_real) GTEST_SKIP() << "compared only the fake: " << pair.skip_reason();
}

TEST_F(RedisTools, RedisBenchmarkCompletesABoundedRun) {
  need("redis-benchmark");
  const auto r = RedisPair::get().run_tool(
      {"redis-benchmark", "-p", std::to_string(RedisPair::get().fake_port()), "-n", "1000", "-c",
       "10", "-t", "set,get,incr,lpush,lpop", "-q", "--csv"},
      120s);
  ASSERT_TRUE(r.ok) << r.status << "\n" << r.output;
  for (const char* test : {"\"SET\"", "\"GET\"", "\"INCR\"", "\"LPUSH\"", "\"LPOP\""}) {
    EXPECT_NE(r.output.find(test), std::string::npos) << test << " missing in:\n" << r.output;
  }
}

}  // namespace
}  // namespace faultline::conformance::redis
