// run_captured: runs a program (nvidia-smi) with a real-time timeout and captures its output.
//
// The program runs in its own process group with PR_SET_PDEATHSIG(SIGKILL), stdin from /dev/null
// and stdout/stderr on pipes; output beyond kMaxCapturedBytes per stream is dropped. After
// `timeout` the whole group is killed with SIGKILL and reaped, so a hung program never outlives
// the call (nor the harness, should it die meanwhile). The timeout is real time on purpose: it
// bounds a real process, which no simulated clock can make answer.
//
// Thread safety: may be called from any thread. PR_SET_PDEATHSIG fires when the calling *thread*
// exits, so call it from a thread that outlives the call (any thread does while it blocks here).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace faultline::clients {

inline constexpr std::size_t kMaxCapturedBytes = 4 << 20;

struct CapturedRun {
  bool started = false;  // false: the program was not found or could not be started; see error
  std::string error;
  bool timed_out = false;
  int exit_code = -1;  // when it exited normally
  int signal = 0;      // when a signal ended it
  std::string out, err;
};

// argv[0] is looked up in PATH (env's PATH if `env` sets one) unless it contains a '/'. `env` is
// added to (or replaces entries of) this process's environment.
CapturedRun run_captured(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env,
                         std::chrono::milliseconds timeout);

// Where argv0 resolves with `path_env` (a PATH value); empty if nowhere.
std::string resolve_program(const std::string& argv0, const std::string& path_env);

}  // namespace faultline::clients
