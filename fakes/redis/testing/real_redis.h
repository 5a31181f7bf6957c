// RealRedis: a real redis-server started for a test, and stopped without a trace.
//
// It runs on a free loopback port with no persistence (no RDB, no AOF), its files in a directory
// of the RunDirectory, through a Supervisor, so the run's watchdog kills it if the test program
// dies. Options give it a maxmemory and policy, and DEBUG for local connections (to fill memory
// quickly with DEBUG POPULATE). `kill()` SIGKILLs it; `start()` brings a fresh, empty one up on
// the same port, as a restarted cache would be. Readiness is a bounded wait for PING.
//
// The same server the PostgreSQL side has in fakes/postgres/testing/real_postgres.h; the local
// backend's own redis-server is harness/backends/local_redis.
//
// Thread safety: a RealRedis belongs to one thread; cmd() and info_number() open their own
// connection and may be called from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/supervisor.h"

namespace faultline {
class RunDirectory;
}

namespace faultline::testing {

struct RealRedisOptions {
  std::string maxmemory = "0";  // redis-server's --maxmemory (0: no limit)
  std::string policy = "noeviction";
  bool debug_command = false;  // --enable-debug-command local
};

class RealRedis {
 public:
  // Why redis-server cannot be run here, or nullopt. Tests GTEST_SKIP() with this reason.
  static std::optional<std::string> unavailable();

  // Starts the server; throws Error naming its log if it does not answer PING.
  explicit RealRedis(RunDirectory& run, RealRedisOptions options = {});
  ~RealRedis();  // terminate (SIGTERM, then SIGKILL after a grace)
  RealRedis(const RealRedis&) = delete;
  RealRedis& operator=(const RealRedis&) = delete;

  // Starts the server (again) and waits, bounded, until it answers PING. Throws Error otherwise.
  void start();
  void kill();  // SIGKILL and reap
  bool running();
  std::uint16_t port() const { return port_; }
  pid_t pid() const;
  const std::filesystem::path& dir() const { return dir_; }

  // One command through a fresh hiredis connection; the reply rendered as text ("" on failure).
  std::string cmd(const std::vector<std::string>& argv) const;
  std::uint64_t info_number(const std::string& field) const;

 private:
  RunDirectory& run_;
  RealRedisOptions options_;
  std::uint16_t port_;
  std::filesystem::path dir_;
  std::optional<Child> child_;
};

}  // namespace faultline::testing
