// Process supervision: starting the harness's child processes and making sure they stop.
//
// `Supervisor::spawn` starts a program as the leader of a new process group (so a signal to the
// group reaches everything it started), with PR_SET_PDEATHSIG(SIGKILL) so it dies with the
// harness, and records it in the run directory *before* the program runs: the forked child waits
// for a go byte that the harness writes only once the record is on disk, so the watchdog and the
// reaper always know about every process that ever ran a line of a supervised program.
//
// PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not when the process does:
// spawn from a thread that lives as long as the child should (the main thread or the event loop's
// thread), never from a short-lived worker. It does not survive exec of a set-uid program either;
// the watchdog covers both cases.
//
// A `Child` is the handle to one spawned process. When its leader exits, whatever is left in its
// process group is killed before the leader is reaped (the zombie leader keeps the group id from
// being reused meanwhile), so nothing a supervised child started outlives it. The destructor
// terminates a child that is still running.
//
// The harness must not reap children behind the Child's back: no SIGCHLD set to SIG_IGN, no
// waitpid(-1). If that happens anyway, the exit status reads "unknown" and nothing else breaks.
//
// Thread-safety: `Supervisor::spawn` and the free functions are thread-safe. A `Child` belongs to
// one thread at a time; its const accessors may be read from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/run_dir.h"

namespace faultline {

// Waits until process `pid` has exited (is a zombie or gone), at most `timeout`. True if it has.
// Uses a pidfd where the kernel has them, so it wakes at once; polls /proc otherwise.
bool wait_for_exit(pid_t pid, std::chrono::milliseconds timeout);

// How a process ended.
struct ExitStatus {
  int code = -1;   // exit code if it exited normally, else -1
  int signal = 0;  // the signal that killed it, else 0

  bool success() const { return signal == 0 && code == 0; }
  // "exit 3", "killed by SIGTERM", or "unknown" (reaped by someone else).
  std::string str() const;
};

// Runs `argv` to completion in its own process group (stdin /dev/null, stdout to our stderr) and
// returns how it ended; after `timeout` the group is killed and `timed_out` is set. Throws Error
// if the program cannot be started. Used for heal actions.
struct CompletedProcess {
  ExitStatus status;
  bool timed_out = false;
};
CompletedProcess run_to_completion(const std::vector<std::string>& argv,
                                   std::chrono::milliseconds timeout);

// What to start. argv[0] is looked up in PATH (the child's, if `env` sets one) unless it has a '/'.
struct ProcessSpec {
  std::vector<std::string> argv{};
  std::map<std::string, std::string> env{};  // added to, or replacing, the harness's environment
  std::filesystem::path cwd{};               // empty: the harness's working directory
  std::filesystem::path stdout_path{};       // empty: inherit the harness's stdout
  std::filesystem::path stderr_path{};       // empty: inherit the harness's stderr
};

class Child {
 public:
  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();  // terminate(kDefaultGrace) if still running

  pid_t pid() const { return id_.pid; }
  pid_t pgid() const { return id_.pid; }  // always the leader of its own group
  const ProcessIdentity& identity() const { return id_; }

  // False once the leader has exited (and then it has been reaped).
  bool running();
  // Sends `sig` to the leader / to the whole group. False once the child has been reaped.
  bool signal(int sig);
  bool signal_group(int sig);
  // SIGTERM (and SIGCONT, so a paused group can act on it) to the group; after `grace`, SIGKILL.
  ExitStatus terminate(std::chrono::milliseconds grace = kDefaultGrace);
  // Blocks until the leader exits.
  ExitStatus wait();
  // Set once the child has been reaped.
  const std::optional<ExitStatus>& exit_status() const { return status_; }

 private:
  friend class Supervisor;
  Child(ProcessIdentity id, std::shared_ptr<detail::RunState> run);
  ExitStatus finish();  // leader has exited: kill the rest of the group, reap, forget

  ProcessIdentity id_;
  std::shared_ptr<detail::RunState> run_;
  std::optional<ExitStatus> status_;
};

class Supervisor {
 public:
  // Children are recorded in `run`; the Supervisor and its Children may outlive it (once `run` is
  // closed, spawning throws and forgetting is a no-op).
  explicit Supervisor(RunDirectory& run);

  // Starts `spec`. Throws Error if the program cannot be found or started (nothing is left behind).
  Child spawn(const ProcessSpec& spec);

 private:
  std::shared_ptr<detail::RunState> run_;
};

}  // namespace faultline
