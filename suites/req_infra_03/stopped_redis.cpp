#include "suites/req_infra_03/stopped_redis.h"

#include <signal.h>

#include <string>

namespace faultline::suites::req_infra_03 {

StoppedRedis::StoppedRedis(RunDirectory& run, testing::RealRedis& server)
    : run_(run), server_(server), pid_(server.pid()) {
  // Never fails (the server may be gone by the time a watchdog runs it), so it never keeps a run
  // directory pending.
  heal_id_ = run_.add_heal_action(
      "SIGCONT redis-server " + std::to_string(pid_),
      {"sh", "-c", "kill -CONT " + std::to_string(pid_) + " 2>/dev/null; true"});
  ::kill(pid_, SIGSTOP);
}

void StoppedRedis::resume() {
  if (!heal_id_) return;
  // Only while it is still our child (not reaped), so the pid cannot belong to anyone else.
  if (server_.running() && server_.pid() == pid_) ::kill(pid_, SIGCONT);
  run_.heal_done(*heal_id_);
  heal_id_.reset();
}

}  // namespace faultline::suites::req_infra_03
