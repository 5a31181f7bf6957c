// ContainerProcess: spawn on the watching thread, wait on a pidfd, reap, report the exit code.
#include "fakes/docker/container_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>

#include "harness/core/error.h"

namespace faultline::fakes::docker {

using Steady = std::chrono::steady_clock;

struct ContainerProcess::State {
  std::mutex mu;
  std::condition_variable cv;
  pid_t pid = 0;
  bool exited = false;  // reaped: pid must not be signalled any more
  std::optional<Steady::time_point> kill_at;
  bool deadline_passed = false;
  int wake_fd = -1;
  std::atomic<bool> finished{false};

  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd, &one, sizeof one);
  }
};

namespace {

int exit_code_of(const ExitStatus& s) {
  if (s.signal) return 128 + s.signal;
  return s.code >= 0 ? s.code : 255;  // reaped by someone else: unknown
}

void watch(std::shared_ptr<ContainerProcess::State> st, Supervisor& supervisor, ProcessSpec spec,
           ContainerProcess::OnExit on_exit, std::promise<pid_t> started) {
  std::optional<Child> child;
  try {
    child.emplace(supervisor.spawn(spec));
  } catch (...) {
    started.set_exception(std::current_exception());
    st->finished = true;
    return;
  }
  const pid_t pid = child->pid();
  {
    std::lock_guard lock(st->mu);
    st->pid = pid;
  }
  started.set_value(pid);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  for (;;) {
    int timeout_ms = -1;
    {
      std::lock_guard lock(st->mu);
      if (st->kill_at) {
        const auto left = *st->kill_at - Steady::now();
        if (left <= Steady::duration::zero()) {
          st->kill_at.reset();
          st->deadline_passed = true;
          ::kill(-pid, SIGKILL);
          ::kill(pid, SIGKILL);
        } else {
          timeout_ms = static_cast<int>(
              std::chrono::duration_cast<std::chrono::milliseconds>(left).count() + 1);
        }
      }
    }
    if (pidfd < 0) {  // a kernel without pidfds: the Supervisor's own wait
      if (wait_for_exit(pid, std::chrono::milliseconds(timeout_ms < 0 ? 50 : timeout_ms))) break;
      continue;
    }
    pollfd fds[2] = {{pidfd, POLLIN, 0}, {st->wake_fd, POLLIN, 0}};
    const int n = ::poll(fds, 2, timeout_ms);
    if (n < 0 && errno != EINTR) break;
    if (n > 0 && (fds[1].revents & POLLIN)) {
      std::uint64_t drained = 0;
      [[maybe_unused]] const auto r = ::read(st->wake_fd, &drained, sizeof drained);
    }
    if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) break;
  }
  if (pidfd >= 0) ::close(pidfd);
  ExitStatus status;
  bool deadline_passed = false;
  {
    std::lock_guard lock(st->mu);
    status = child->wait();  // the leader has exited: kills what is left of its group, reaps
    st->exited = true;
    deadline_passed = st->deadline_passed;
  }
  st->cv.notify_all();
  child.reset();
  if (on_exit) on_exit(exit_code_of(status), deadline_passed);
  st->finished = true;
}

}  // namespace

ContainerProcess::ContainerProcess(Supervisor& supervisor, ProcessSpec spec, OnExit on_exit,
                                   std::optional<std::chrono::nanoseconds> deadline)
    : state_(std::make_shared<State>()) {
  state_->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (state_->wake_fd < 0) throw Error("fake docker: eventfd failed");
  if (deadline) state_->kill_at = Steady::now() + *deadline;
  std::promise<pid_t> started;
  auto future = started.get_future();
  thread_ = std::thread(watch, state_, std::ref(supervisor), std::move(spec), std::move(on_exit),
                        std::move(started));
  try {
    pid_ = future.get();
  } catch (...) {
    thread_.join();
    ::close(state_->wake_fd);
    throw;
  }
}

ContainerProcess::~ContainerProcess() {
  kill_and_join();
  ::close(state_->wake_fd);
}

void ContainerProcess::kill_and_join() {
  {
    std::lock_guard lock(state_->mu);
    if (!state_->exited) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
    }
  }
  if (!thread_.joinable()) return;
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();  // the last owner went inside on_exit: the thread ends by itself
  } else {
    thread_.join();
  }
}

bool ContainerProcess::signal(int sig) {
  std::lock_guard lock(state_->mu);
  if (state_->exited) return false;
  return ::kill(pid_, sig) == 0;
}

bool ContainerProcess::signal_group(int sig) {
  std::lock_guard lock(state_->mu);
  if (state_->exited) return false;
  return ::kill(-pid_, sig) == 0;
}

void ContainerProcess::kill_after(std::chrono::nanoseconds grace) {
  {
    std::lock_guard lock(state_->mu);
    if (state_->exited) return;
    const auto at = Steady::now() + std::chrono::duration_cast<Steady::duration>(grace);
    if (!state_->kill_at || at < *state_->kill_at) state_->kill_at = at;
  }
  state_->wake();
}

bool ContainerProcess::wait_reaped(std::chrono::milliseconds bound) {
  std::unique_lock lock(state_->mu);
  return state_->cv.wait_for(lock, bound, [&] { return state_->exited; });
}

bool ContainerProcess::exited() const {
  std::lock_guard lock(state_->mu);
  return state_->exited;
}

bool ContainerProcess::finished() const {
  return state_->finished;
}

}  // namespace faultline::fakes::docker
