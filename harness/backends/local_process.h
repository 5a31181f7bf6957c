// LocalProcess: a supervised server process of the local backend, shared by its ServiceHandle and
// the HookFaults applied to it, with the kill and pause hooks every local server offers.
//
// pause stops the whole process group with SIGSTOP after registering a RunDirectory heal action
// that sends SIGCONT, so a harness killed while the server is paused still has it resumed (and
// then killed) by the watchdog or `faultline reap`; heal sends SIGCONT and forgets the action.
// kill sends SIGKILL to the leader; the Supervisor kills what is left of its group when it reaps
// it, and the Orchestrator's restart is the recovery.
//
// Thread safety: every member may be called from any thread (a mutex guards the Child).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"
#include "harness/stack/backend.h"

namespace faultline::backends {

class LocalProcess : public std::enable_shared_from_this<LocalProcess> {
 public:
  LocalProcess(RunDirectory& run, Child child, std::string what)
      : run_(run), child_(std::move(child)), what_(std::move(what)) {}

  bool running();
  std::optional<int> exit_code();  // 128 + signal for a signalled process
  bool signal(int sig);            // to the leader
  // `first` to the leader, up to `grace` for it to exit, then SIGTERM/SIGKILL to the group.
  void stop(int first, std::chrono::milliseconds grace);
  pid_t pid() const { return pid_; }

  // The hooks: "kill" and "pause" (see hooks.h).
  std::unique_ptr<stack::HookFault> kill();
  std::unique_ptr<stack::HookFault> pause();

 private:
  RunDirectory& run_;
  std::mutex mu_;
  Child child_;
  pid_t pid_ = child_.pid();
  std::string what_;
};

}  // namespace faultline::backends
