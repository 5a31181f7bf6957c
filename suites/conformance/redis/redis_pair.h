// RedisPair: a real redis-server and the Redis fake, side by side, for the conformance suite.
//
// The real server is started through a Supervisor in the run's RunDirectory (so the watchdog kills
// it if the test is SIGKILLed), on a free loopback port, with persistence off (`--save ""
// --appendonly no`) and its working directory inside the run directory. The fake runs in process
// on a RealClock. Both are started once per test program, by a GoogleTest environment, and
// stopped when the program ends. When redis-server is not installed, `skip_reason()` says so and
// every comparison skips with it (the fake still runs, for the client-tool tests).
//
// Known limitations are read from fakes/redis/KNOWN_LIMITATIONS.yaml: `limitation_for(case_id)`
// is the documented reason a case may differ, if there is one.
//
// Thread safety: use from the test thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fakes/redis/test_client.h"

namespace faultline::conformance::redis {

struct ToolResult {
  bool ok = false;
  std::string status;  // "exit 0", "timed out"...
  std::string output;  // its standard output
};

class RedisPair {
 public:
  static RedisPair& get();  // the program's pair (started by the environment)

  const std::string& skip_reason() const { return skip_reason_; }
  std::uint16_t real_port() const { return real_port_; }
  std::uint16_t fake_port() const { return fake_port_; }
  fakes::redis::testing::RedisTestClient real_client() const;
  fakes::redis::testing::RedisTestClient fake_client() const;
  // FLUSHALL and default settings on both.
  void reset() const;

  // Runs a program (redis-cli, redis-benchmark) under the run's Supervisor, bounded by `limit`.
  ToolResult run_tool(const std::vector<std::string>& argv, std::chrono::seconds limit) const;

  std::optional<std::string> limitation_for(const std::string& case_id) const;
  const std::map<std::string, std::string>& limitations() const { return limitations_; }

  // Used by the environment.
  void start();
  void stop();

 private:
  struct Processes;
  std::string skip_reason_;
  std::uint16_t real_port_ = 0;
  std::uint16_t fake_port_ = 0;
  std::map<std::string, std::string> limitations_;
  Processes* processes_ = nullptr;
};

// The program that runs `name` if it is on PATH, else "".
std::string find_program(const std::string& name);

}  // namespace faultline::conformance::redis
