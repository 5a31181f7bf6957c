#include "harness/core/watchdog.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "harness/core/error.h"
#include "harness/core/reaper.h"

namespace faultline {
namespace {

// The harness writes kDisarm when it has cleaned up itself, and kLock with the run's lock file
// descriptor attached (SCM_RIGHTS) once it has made and locked it. Anything else is ignored.
constexpr char kDisarm = 'D';
constexpr char kLock = 'L';

// recv() of one byte, and of a descriptor passed with it (else *fd stays as it was).
ssize_t receive(int socket, char& byte, int& fd) {
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    }
  }
  return n;
}

// The harness died before handing over the lock (inside RunDirectory::create): the run is ours to
// clean unless a reaper has claimed it meanwhile. A run without a lock file yet is ours too.
bool claim_unlocked_run(const std::filesystem::path& run) {
  const int fd = ::open((run / "lock").c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return true;
  return ::flock(fd, LOCK_EX | LOCK_NB) == 0;  // kept open (and locked) until we exit
}

void close_fds(unsigned first, unsigned last) {
  if (first > last) return;
  if (::syscall(SYS_close_range, first, last, 0) == 0) return;
  const long max = ::sysconf(_SC_OPEN_MAX);
  const unsigned limit = max > 0 ? static_cast<unsigned>(std::min(max, 1L << 20)) : 1024;
  for (unsigned fd = first; fd <= last && fd < limit; ++fd) ::close(static_cast<int>(fd));
}

// Closes every descriptor but `a` and `b` (both above 2, or b < 0: none) and the standard three.
void close_all_except(int a, int b) {
  if (b < 0) {
    close_fds(3, static_cast<unsigned>(a) - 1);
    close_fds(static_cast<unsigned>(a) + 1, UINT_MAX);
    return;
  }
  const auto low = static_cast<unsigned>(std::min(a, b));
  const auto high = static_cast<unsigned>(std::max(a, b));
  close_fds(3, low - 1);
  close_fds(low + 1, high - 1);
  close_fds(high + 1, UINT_MAX);
}

// Moves `fd` above the standard descriptors, which are about to be replaced.
int above_stdio(int fd) {
  if (fd > STDERR_FILENO) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  return moved >= 0 ? moved : fd;
}

// The watchdog's whole life. Runs in the child of fork() without exec: see watchdog.h for what it
// may use. It never returns.
[[noreturn]] void watchdog_main(int life_fd, const std::filesystem::path& run,
                                const CleanupPolicy& policy) {
  ::setsid();
  struct sigaction act {};
  act.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &act, nullptr);
  act.sa_handler = SIG_IGN;
  for (const int sig : {SIGINT, SIGHUP, SIGPIPE}) ::sigaction(sig, &act, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  life_fd = above_stdio(life_fd);
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
  }
  // Keeps stderr for heal actions' messages and drops everything else the harness had open:
  // notably other runs' watchdog sockets, which would keep those watchdogs from ever seeing end of
  // file, and pipes whose reader waits for end of file.
  close_all_except(life_fd, -1);
  [[maybe_unused]] const int rc = ::chdir("/");
  ::prctl(PR_SET_NAME, "faultline-wd", 0, 0, 0);

  int lock_fd = -1;  // a duplicate of the harness's: it shares the open file, and so the flock
  for (;;) {
    char byte = 0;
    int passed = -1;
    const ssize_t n = receive(life_fd, byte, passed);
    if (n == 1 && byte == kDisarm) ::_exit(0);
    if (n == 1 && byte == kLock && passed >= 0 && lock_fd < 0) {
      lock_fd = passed;
    } else if (passed >= 0) {
      ::close(passed);
    }
    if (n == 0 || (n < 0 && errno != EINTR)) break;  // end of file: the harness is gone
  }
  if (lock_fd < 0 && !claim_unlocked_run(run)) ::_exit(0);  // a reaper has it
  try {
    reap_run(run, policy, false);
  } catch (...) {
    // Out of memory, at worst; what is left on disk is for `faultline reap`.
  }
  ::_exit(0);
}

}  // namespace

Watchdog Watchdog::start(const std::filesystem::path& run, const CleanupPolicy& policy) {
  int fds[2];  // [0] the watchdog's end, [1] the harness's
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw Error(std::string("cannot start the watchdog: socketpair: ") + std::strerror(errno));
  }
  // Block signals so that no handler of the harness runs in the watchdog before it resets them.
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = ::fork();
  const int fork_errno = errno;
  if (pid == 0) {
    ::close(fds[1]);  // the watchdog must not hold the end whose closing it waits for
    watchdog_main(fds[0], run, policy);
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(fds[0]);
  if (pid < 0) {
    ::close(fds[1]);
    throw Error(std::string("cannot start the watchdog: fork: ") + std::strerror(fork_errno));
  }
  return Watchdog(ProcessIdentity::of(pid).value_or(ProcessIdentity{pid, 0}), fds[1]);
}

Watchdog::Watchdog(Watchdog&& other) noexcept
    : id_(other.id_),
      pid_(std::exchange(other.pid_, -1)),
      life_fd_(std::exchange(other.life_fd_, -1)) {}

Watchdog& Watchdog::operator=(Watchdog&& other) noexcept {
  if (this != &other) {
    disarm();
    id_ = other.id_;
    pid_ = std::exchange(other.pid_, -1);
    life_fd_ = std::exchange(other.life_fd_, -1);
  }
  return *this;
}

Watchdog::~Watchdog() {
  disarm();
}

std::optional<ProcessIdentity> Watchdog::identity() const {
  if (pid_ <= 0) return std::nullopt;
  return id_;
}

void Watchdog::hand_lock(int lock_fd) {
  if (pid_ <= 0) return;
  char byte = kLock;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &lock_fd, sizeof lock_fd);
  ssize_t n;
  do {
    n = ::sendmsg(life_fd_, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n != 1)
    throw Error(std::string("cannot hand the run's lock to its watchdog: ") + std::strerror(errno));
}

void Watchdog::disarm() noexcept {
  if (pid_ <= 0) return;
  const char byte = kDisarm;
  while (::send(life_fd_, &byte, 1, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
  ::close(std::exchange(life_fd_, -1));
  // It exits as soon as it reads the byte. ECHILD (someone reaped it for us) is fine too.
  const pid_t pid = std::exchange(pid_, -1);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace faultline
