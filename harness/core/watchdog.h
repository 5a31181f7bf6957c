// Watchdog: a process that cleans up a run when the harness that owns it dies, however it dies.
//
// `Watchdog::start` forks (no exec) a child that calls setsid() (so a Ctrl-C or a kill of the
// harness's process group does not reach it), ignores SIGINT, SIGHUP and SIGPIPE, closes every
// inherited descriptor but stderr and its end of a socket pair, and blocks in recv() on that
// socket. Only the harness holds the other end, opened SOCK_CLOEXEC so that no program the
// harness execs inherits it. It is started *before* the run directory is made, so a harness
// killed at any instant of RunDirectory::create still has its directory removed. recv() returns:
//   - the lock byte, with the run's lock file descriptor attached (SCM_RIGHTS), once the harness
//     has made and locked it: from then on the watchdog holds the flock too;
//   - the disarm byte: the harness has cleaned up itself (RunDirectory::close); exit at once;
//   - end of file: every holder of the harness's end has gone, i.e. the harness died (SIGKILL
//     included: the kernel closes a dead process's descriptors). The watchdog then cleans the run
//     from what is on disk, exactly as `faultline reap` would (reaper.h): SIGTERM to each recorded
//     child's process group, a bounded grace, SIGKILL, pending heal actions newest first (each
//     with a bounded wait), removal of the directory; then it exits. If the harness died before
//     handing over the lock, the watchdog first takes the lock itself, as a reaper would, and
//     leaves the run to the reaper that holds it if it cannot.
// A socket rather than a pipe so that disarming a watchdog that is already gone cannot raise
// SIGPIPE in the harness (send() takes MSG_NOSIGNAL).
//
// The watchdog keeps the run's flock (the lock's open file is shared with the harness), so the
// reaper leaves the run alone until both are gone.
//
// Why fork without exec: an exec'd helper would need its own binary or a hook in every main() of
// the project (tests included). The price is that the child of fork() in a multithreaded process
// may only rely on what fork leaves consistent. So the watchdog's code path uses plain syscalls,
// glibc malloc (which fork keeps consistent) and the standard containers, and never touches
// iostreams, locales, spdlog or anything else with a lock; it leaves with _exit() so no atexit
// handler or static destructor of the harness runs in it. The one exception it may throw and
// catch is a heal action that cannot be started; GCC 12's unwinder finds frames through glibc's
// lock-free _dl_find_object, so even that is safe. Starting it before the harness starts threads
// (RunDirectory::create first thing in main) avoids the question altogether.
//
// The watchdog is a child of the harness: `disarm()` reaps it. If the harness dies, it is adopted
// by init (or the nearest PR_SET_CHILD_SUBREAPER), which reaps it.
//
// Thread-safety: not thread-safe; RunDirectory serialises calls.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>

#include "harness/core/run_dir.h"

namespace faultline {

class Watchdog {
 public:
  Watchdog() = default;  // no watchdog
  // Forks the watchdog of run directory `run`, before the directory exists (so that a harness
  // killed while making it still has it removed). Throws Error.
  static Watchdog start(const std::filesystem::path& run, const CleanupPolicy& policy);

  Watchdog(Watchdog&& other) noexcept;
  Watchdog& operator=(Watchdog&& other) noexcept;
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog();  // disarm()

  bool armed() const { return pid_ > 0; }
  std::optional<ProcessIdentity> identity() const;

  // Gives the watchdog a duplicate of the run's locked lock file descriptor, so that it holds the
  // flock too, from now on. Throws Error. No-op if not armed.
  void hand_lock(int lock_fd);

  // Tells the watchdog the run has been cleaned, and waits for it to exit. No-op if not armed.
  void disarm() noexcept;

 private:
  Watchdog(ProcessIdentity id, int life_fd) : id_(id), pid_(id.pid), life_fd_(life_fd) {}

  ProcessIdentity id_;
  pid_t pid_ = -1;
  int life_fd_ = -1;  // write end of the pipe the watchdog reads
};

}  // namespace faultline
