// Test support for the local REQ-INFRA-03 suite: a SIGSTOP of the suite's redis-server
// (fakes/redis/testing's RealRedis) that is always undone.
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

#include "fakes/redis/testing/real_redis.h"
#include "harness/core/run_dir.h"

namespace faultline::suites::req_infra_03 {

class StoppedRedis {
 public:
  StoppedRedis(RunDirectory& run, testing::RealRedis& server);
  ~StoppedRedis() { resume(); }
  StoppedRedis(const StoppedRedis&) = delete;
  StoppedRedis& operator=(const StoppedRedis&) = delete;
  void resume();

 private:
  RunDirectory& run_;
  testing::RealRedis& server_;
  pid_t pid_;
  std::optional<std::uint64_t> heal_id_;
};

}  // namespace faultline::suites::req_infra_03
