#include "harness/backends/local_process.h"

#include <signal.h>

#include "harness/backends/hook_fault.h"

namespace faultline::backends {

bool LocalProcess::running() {
  std::lock_guard lock(mu_);
  return child_.running();
}

std::optional<int> LocalProcess::exit_code() {
  std::lock_guard lock(mu_);
  if (child_.running() || !child_.exit_status()) return std::nullopt;
  const auto& st = *child_.exit_status();
  return st.signal ? 128 + st.signal : st.code;
}

bool LocalProcess::signal(int sig) {
  std::lock_guard lock(mu_);
  return child_.signal(sig);
}

void LocalProcess::stop(int first, std::chrono::milliseconds grace) {
  std::lock_guard lock(mu_);
  if (!child_.running()) return;
  child_.signal_group(SIGCONT);  // a paused server must be able to act on the signal
  child_.signal(first);
  if (!wait_for_exit(child_.pid(), grace)) child_.terminate(std::chrono::milliseconds(1000));
  child_.wait();
}

std::unique_ptr<stack::HookFault> LocalProcess::kill() {
  signal(SIGKILL);
  return std::make_unique<CallbackHookFault>(nullptr);
}

std::unique_ptr<stack::HookFault> LocalProcess::pause() {
  const std::string group = "-" + std::to_string(pid_);
  // Registered before the SIGSTOP, so a harness killed right after still resumes the server. The
  // group may be gone by then: the action succeeds anyway (it must be idempotent).
  const auto id = run_.add_heal_action(
      "resume paused " + what_ + " (process group " + std::to_string(pid_) + ")",
      {"/bin/sh", "-c", "kill -s CONT -- " + group + " 2>/dev/null; exit 0"});
  {
    std::lock_guard lock(mu_);
    child_.signal_group(SIGSTOP);
  }
  auto self = shared_from_this();
  return std::make_unique<CallbackHookFault>([self, id] {
    {
      std::lock_guard lock(self->mu_);
      self->child_.signal_group(SIGCONT);
    }
    self->run_.heal_done(id);
  });
}

}  // namespace faultline::backends
