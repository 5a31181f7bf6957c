// ContainerProcess: one real process behind a process-backed container of the Docker fake (its
// main process or a health check's command), and the thread that watches it.
//
// The process is spawned through the harness Supervisor (recorded in the run directory, so the
// watchdog kills it if the harness is SIGKILLed) *on the watching thread*: PR_SET_PDEATHSIG
// follows the thread that forked, and that thread lives exactly until the process is reaped. The
// thread waits on a pidfd (and an eventfd for "something changed"), never sleeps, and when the
// process has exited reaps it, then calls `on_exit` with dockerd's exit code (the code, or 128 +
// the signal that killed it). `on_exit` runs on the watching thread with no lock of ours held.
//
// Thread safety: every member may be called from any thread. Destroying a ContainerProcess kills
// what still runs and joins the thread, which waits for `on_exit` to return: never destroy one
// while holding a lock `on_exit` takes (ProcessBacking keeps them and joins finished ones).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "harness/core/supervisor.h"

namespace faultline::fakes::docker {

class ContainerProcess {
 public:
  using OnExit = std::function<void(int exit_code, bool deadline_passed)>;

  // Starts `spec` and returns once it runs (or throws Error when it cannot be started). With a
  // `deadline`, the process group is SIGKILLed when it passes (a health check's timeout).
  ContainerProcess(Supervisor& supervisor, ProcessSpec spec, OnExit on_exit,
                   std::optional<std::chrono::nanoseconds> deadline = std::nullopt);
  ~ContainerProcess();
  ContainerProcess(const ContainerProcess&) = delete;
  ContainerProcess& operator=(const ContainerProcess&) = delete;

  pid_t pid() const { return pid_; }
  // `sig` to the process (docker kill) or to its whole group (pause: SIGSTOP/SIGCONT). False once
  // it has exited.
  bool signal(int sig);
  bool signal_group(int sig);
  // SIGKILL to the group once `grace` (real time) has passed, unless it has exited by then.
  void kill_after(std::chrono::nanoseconds grace);
  // Waits (at most `bound`) until the process has been reaped. True if it has.
  bool wait_reaped(std::chrono::milliseconds bound);
  bool exited() const;
  // True once `on_exit` has returned (the thread is about to end: joining is immediate).
  bool finished() const;
  // SIGKILL to the group unless it has exited, then joins the thread (what the destructor does).
  void kill_and_join();

  struct State;

 private:
  std::shared_ptr<State> state_;
  pid_t pid_ = 0;
  std::thread thread_;
};

}  // namespace faultline::fakes::docker
