#include "harness/core/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string_view>
#include <thread>
#include <utility>

#include "harness/core/error.h"
#include "harness/core/run_dir.h"
#include "harness/core/unique_fd.h"

extern char** environ;

namespace faultline {
namespace {

using SteadyClock = std::chrono::steady_clock;

using Fd = UniqueFd;

std::string errno_text(int err) {
  return std::strerror(err);
}

Fd open_or_throw(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("cannot open " + path.string() + ": " + errno_text(errno));
  return Fd(fd);
}

// A connected pair of descriptors, closed on exec. A socket rather than a pipe, so that writing to
// a child that died can say MSG_NOSIGNAL instead of raising SIGPIPE in the harness.
std::pair<Fd, Fd> make_channel() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw Error(std::string("socketpair: ") + errno_text(errno));
  }
  return {Fd(fds[0]), Fd(fds[1])};
}

// The harness's environment with `additions` added or replacing; "NAME=value" strings.
std::vector<std::string> merged_environment(const std::map<std::string, std::string>& additions) {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view var(*entry);
    const std::string name(var.substr(0, var.find('=')));
    if (!additions.contains(name)) env.emplace_back(var);
  }
  for (const auto& [name, value] : additions) env.push_back(name + "=" + value);
  return env;
}

// Finds `name` the way execvp would, before fork: the child may only make async-signal-safe calls.
std::string resolve_program(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string search = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& var : env) {
    if (var.starts_with("PATH=")) search = var.substr(5);
  }
  for (size_t start = 0; start <= search.size();) {
    size_t end = search.find(':', start);
    if (end == std::string::npos) end = search.size();
    const std::string dir = end == start ? "." : search.substr(start, end - start);
    const std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  throw Error("cannot start " + name + ": not found in PATH");
}

// Waits for `pid`, retrying on EINTR; the raw status, or -1 if it was reaped by someone else.
int reap_blocking(pid_t pid) {
  int status = 0;
  for (;;) {
    if (::waitpid(pid, &status, 0) == pid) return status;
    if (errno != EINTR) return -1;
  }
}

ExitStatus decode(int status) {
  ExitStatus out;
  if (status < 0) return out;
  if (WIFEXITED(status)) out.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) out.signal = WTERMSIG(status);
  return out;
}

// Everything the forked child needs, prepared before fork.
struct LaunchPlan {
  std::vector<std::string> argv;
  std::string program;  // argv[0] resolved
  std::vector<std::string> env;
  std::string cwd;
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;  // -1: keep the harness's
};

constexpr int kStageSetup = 1, kStageChdir = 2, kStageExec = 3;

[[noreturn]] void fail_in_child(int report_fd, int stage) {
  const int report[2] = {stage, errno};
  [[maybe_unused]] const ssize_t n = ::write(report_fd, report, sizeof report);
  ::_exit(127);
}

// Makes `fd` the child's descriptor `target` (and keeps it open across exec).
bool install_fd(int fd, int target) {
  if (fd < 0) return true;
  if (fd == target) return ::fcntl(fd, F_SETFD, 0) == 0;
  return ::dup2(fd, target) == target;
}

// Runs in the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_in_child(const LaunchPlan& plan, char* const* argv, char* const* envp,
                                int go_fd, int report_fd, pid_t parent) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the harness died before prctl took effect
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  char go = 0;
  ssize_t n;
  do {
    n = ::read(go_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(127);  // the harness died, or gave up on us, before recording us
  if (!install_fd(plan.stdin_fd, 0) || !install_fd(plan.stdout_fd, 1) ||
      !install_fd(plan.stderr_fd, 2)) {
    fail_in_child(report_fd, kStageSetup);
  }
  if (!plan.cwd.empty() && ::chdir(plan.cwd.c_str()) != 0) fail_in_child(report_fd, kStageChdir);
  ::execve(plan.program.c_str(), argv, envp);
  fail_in_child(report_fd, kStageExec);
}

// Forks and execs `plan`. `admit(pid)` runs in the parent before the child may exec; if it throws,
// the child is killed and reaped and the exception goes on. Throws Error if the exec fails.
pid_t launch(const LaunchPlan& plan, const std::function<void(pid_t)>& admit) {
  std::vector<char*> argv, envp;
  for (const auto& arg : plan.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  for (const auto& var : plan.env) envp.push_back(const_cast<char*>(var.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  auto [go_r, go_w] = make_channel();
  auto [report_r, report_w] = make_channel();
  const pid_t parent = ::getpid();

  // Block signals so that no handler of the harness runs in the child before it resets them.
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = ::fork();
  const int fork_errno = errno;
  if (pid == 0) exec_in_child(plan, argv.data(), envp.data(), go_r.get(), report_w.get(), parent);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) throw Error("cannot start " + plan.argv[0] + ": fork: " + errno_text(fork_errno));
  go_r.reset();
  report_w.reset();
  ::setpgid(pid, pid);  // as the child does: whichever runs first, the group exists after this

  auto discard = [pid] {
    ::kill(pid, SIGKILL);
    reap_blocking(pid);
  };
  try {
    if (admit) admit(pid);
  } catch (...) {
    discard();
    throw;
  }
  const char go = 'g';
  if (::send(go_w.get(), &go, 1, MSG_NOSIGNAL) != 1) {
    discard();
    throw Error("cannot start " + plan.argv[0] + ": " + errno_text(errno));
  }
  go_w.reset();
  int report[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(report_r.get(), report, sizeof report);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return pid;  // the report channel closed on exec: the program runs
  reap_blocking(pid);
  std::string what = report[0] == kStageChdir ? "chdir " + plan.cwd + ": " : "";
  throw Error("cannot start " + plan.argv[0] + ": " + what + errno_text(report[1]));
}

}  // namespace

bool wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  auto left_ms = [&] {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now());
    return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30));
  };
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0 && errno == ESRCH) return true;
  if (pidfd >= 0) {
    // A pidfd becomes readable when the process exits, whether or not it is our child.
    int ready;
    do {
      pollfd poll_fd{pidfd, POLLIN, 0};
      ready = ::poll(&poll_fd, 1, left_ms());
    } while (ready < 0 && errno == EINTR);
    ::close(pidfd);
    return ready > 0;
  }
  // No pidfds (kernel before 5.3): look at /proc, backing off up to 50 ms between looks.
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    const auto status = read_process_status(pid);
    if (!status || status->state == 'Z' || status->state == 'X') return true;
    if (left_ms() == 0) return false;
    std::this_thread::sleep_for(std::min(pause, std::chrono::milliseconds(left_ms())));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

std::string ExitStatus::str() const {
  if (signal != 0) {
    const char* name = ::sigabbrev_np(signal);
    return "killed by " + (name ? "SIG" + std::string(name) : "signal " + std::to_string(signal));
  }
  if (code >= 0) return "exit " + std::to_string(code);
  return "unknown";
}

CompletedProcess run_to_completion(const std::vector<std::string>& argv,
                                   std::chrono::milliseconds timeout) {
  if (argv.empty()) throw Error("cannot run an empty command");
  LaunchPlan plan;
  plan.argv = argv;
  plan.env = merged_environment({});
  plan.program = resolve_program(argv[0], plan.env);
  const Fd null = open_or_throw("/dev/null", O_RDONLY);
  plan.stdin_fd = null.get();
  plan.stdout_fd = STDERR_FILENO;  // a heal's chatter must not mix with the harness's output
  const pid_t pid = launch(plan, nullptr);
  CompletedProcess out;
  if (!wait_for_exit(pid, timeout)) {
    out.timed_out = true;
    ::kill(-pid, SIGKILL);
  }
  out.status = decode(reap_blocking(pid));
  return out;
}

Child::Child(ProcessIdentity id, std::shared_ptr<detail::RunState> run)
    : id_(id), run_(std::move(run)) {}

Child::Child(Child&& other) noexcept
    : id_(std::exchange(other.id_, ProcessIdentity{})),
      run_(std::move(other.run_)),
      status_(std::exchange(other.status_, std::nullopt)) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    if (id_.pid > 0 && !status_) terminate();
    id_ = std::exchange(other.id_, ProcessIdentity{});
    run_ = std::move(other.run_);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

Child::~Child() {
  if (id_.pid > 0 && !status_) terminate();
}

bool Child::running() {
  if (status_ || id_.pid <= 0) return false;
  siginfo_t info{};
  int rc;
  do {
    rc = ::waitid(P_PID, static_cast<id_t>(id_.pid), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0 && info.si_pid == 0) return true;
  finish();
  return false;
}

bool Child::signal(int sig) {
  return !status_ && id_.pid > 0 && ::kill(id_.pid, sig) == 0;
}

bool Child::signal_group(int sig) {
  return !status_ && id_.pid > 0 && ::kill(-id_.pid, sig) == 0;
}

ExitStatus Child::terminate(std::chrono::milliseconds grace) {
  if (status_ || id_.pid <= 0) return status_.value_or(ExitStatus{});
  ::kill(-id_.pid, SIGTERM);
  ::kill(-id_.pid, SIGCONT);
  wait_for_exit(id_.pid, grace);
  return finish();
}

ExitStatus Child::wait() {
  if (status_ || id_.pid <= 0) return status_.value_or(ExitStatus{});
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(id_.pid), &info, WEXITED | WNOWAIT) < 0 &&
         errno == EINTR) {
  }
  return finish();
}

ExitStatus Child::finish() {
  // Until we reap it, the leader (exited or not) keeps its pid, and so its group id, ours: killing
  // the group now cannot hit anyone else. Unless someone reaped it behind our back; then the pid
  // may be another process's, so look first.
  const auto now = read_process_status(id_.pid);
  if (now && now->start_time == id_.start_time) ::kill(-id_.pid, SIGKILL);
  status_ = decode(reap_blocking(id_.pid));
  if (run_) detail::forget_child(*run_, id_.pid);
  return *status_;
}

Supervisor::Supervisor(RunDirectory& run) : run_(run.state_) {
  if (!run_) throw Error("Supervisor: the run directory was moved from");
}

Child Supervisor::spawn(const ProcessSpec& spec) {
  if (spec.argv.empty()) throw Error("cannot spawn an empty command");
  LaunchPlan plan;
  plan.argv = spec.argv;
  plan.env = merged_environment(spec.env);
  plan.program = resolve_program(spec.argv[0], plan.env);
  plan.cwd = spec.cwd.string();
  const Fd null = open_or_throw("/dev/null", O_RDONLY);
  plan.stdin_fd = null.get();
  const int out_flags = O_WRONLY | O_CREAT | O_TRUNC;
  Fd out, err;
  if (!spec.stdout_path.empty()) out = open_or_throw(spec.stdout_path, out_flags);
  plan.stdout_fd = out.get();
  if (!spec.stderr_path.empty() && spec.stderr_path == spec.stdout_path) {
    plan.stderr_fd = out.get();
  } else if (!spec.stderr_path.empty()) {
    err = open_or_throw(spec.stderr_path, out_flags);
    plan.stderr_fd = err.get();
  }

  std::optional<ProcessIdentity> recorded;
  try {
    launch(plan, [&](pid_t pid) {
      const auto id = ProcessIdentity::of(pid);
      if (!id) throw Error("cannot start " + spec.argv[0] + ": it vanished before it ran");
      detail::record_child(*run_, ChildRecord{*id, pid, spec.argv});
      recorded = id;
    });
  } catch (...) {
    if (recorded) detail::forget_child(*run_, recorded->pid);
    throw;
  }
  return Child(*recorded, run_);
}

}  // namespace faultline
