// Test support for the local REQ-INFRA-03 suite: a redis-server started through the Supervisor
// (so the run's watchdog kills it if the test program dies), and a SIGSTOP that is always undone.
//
// LocalRedisServer runs redis-server on a free loopback port with no persistence, its files in the
// run directory, the given maxmemory and policy, and DEBUG enabled for local connections (to fill
// memory quickly with DEBUG POPULATE). `kill()` SIGKILLs it; `start()` brings a fresh, empty one
// up on the same port, as a restarted cache would be.
//
// StoppedRedis SIGSTOPs the server and SIGCONTs it when it goes out of scope, on every exit path
// of the test (an ASSERT returning early, an exception). The SIGCONT is registered as a heal action
// of the run directory before the SIGSTOP, so even a SIGKILLed test program leaves no stopped
// process behind (the watchdog also SIGKILLs the server itself, which works on a stopped process).
//
// Thread safety: both belong to the test's thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"

namespace faultline::suites::req_infra_03 {

class LocalRedisServer {
 public:
  // Why redis-server cannot be run here, or nullopt.
  static std::optional<std::string> unavailable();

  LocalRedisServer(RunDirectory& run, std::string maxmemory, std::string policy);
  ~LocalRedisServer();
  LocalRedisServer(const LocalRedisServer&) = delete;
  LocalRedisServer& operator=(const LocalRedisServer&) = delete;

  // Starts the server (again) and waits, bounded, until it answers PING. Throws Error otherwise.
  void start();
  void kill();  // SIGKILL and reap
  bool running();
  int port() const { return port_; }
  pid_t pid() const;

  // One command through a fresh hiredis connection; the reply rendered as text ("" on failure).
  std::string cmd(const std::vector<std::string>& argv) const;
  std::uint64_t info_number(const std::string& field) const;

 private:
  RunDirectory& run_;
  std::string maxmemory_;
  std::string policy_;
  int port_;
  std::optional<Child> child_;
};

class StoppedRedis {
 public:
  StoppedRedis(RunDirectory& run, LocalRedisServer& server);
  ~StoppedRedis() { resume(); }
  StoppedRedis(const StoppedRedis&) = delete;
  StoppedRedis& operator=(const StoppedRedis&) = delete;
  void resume();

 private:
  RunDirectory& run_;
  LocalRedisServer& server_;
  pid_t pid_;
  std::optional<std::uint64_t> heal_id_;
};

}  // namespace faultline::suites::req_infra_03
