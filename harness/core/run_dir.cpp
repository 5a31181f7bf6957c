#include "harness/core/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

#include "harness/core/error.h"
#include "harness/core/reaper.h"
#include "harness/core/watchdog.h"

namespace faultline {

namespace detail {
struct RunState {
  std::filesystem::path dir;
  std::string label;
  CleanupPolicy policy;
  int lock_fd = -1;  // holds the run's flock
  Watchdog watchdog;
  std::mutex mu;
  std::uint64_t next_heal_id = 1;
  bool closed = false;

  ~RunState() {
    if (lock_fd >= 0) ::close(lock_fd);
  }
};
}  // namespace detail

namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) {
  return std::strerror(err);
}

// Records are "key value" lines; values escape backslash and newline (read back in reaper.cpp).
std::string escape(std::string_view in) {
  std::string out;
  for (const char c : in) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Writes `dir/name` whole or not at all: into a dot-file, then renamed over.
void write_record(const fs::path& dir, const std::string& name, const std::string& text) {
  const fs::path tmp = dir / ("." + name + ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw Error("cannot write " + tmp.string() + ": " + errno_text(errno));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error("cannot write " + tmp.string() + ": " + errno_text(err));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), (dir / name).c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw Error("cannot write " + (dir / name).string() + ": " + errno_text(err));
  }
}

// The parent of the runs: made 0700 if missing; refused if someone else could write into it.
void ensure_root(const fs::path& root) {
  if (::mkdir(root.c_str(), 0700) != 0 && errno != EEXIST) {
    throw Error("cannot create " + root.string() + ": " + errno_text(errno));
  }
  struct stat st {};
  if (::lstat(root.c_str(), &st) != 0) throw Error(root.string() + ": " + errno_text(errno));
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
    throw Error(root.string() +
                " must be a directory owned by the current user and writable by no one else");
  }
}

std::string utc_stamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
  return buf;
}

std::string random_hex() {
  unsigned char bytes[3] = {};
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    const auto mix = static_cast<unsigned>(std::clock()) ^ static_cast<unsigned>(::getpid());
    std::memcpy(bytes, &mix, sizeof bytes);
  }
  char out[7];
  std::snprintf(out, sizeof out, "%02x%02x%02x", bytes[0], bytes[1], bytes[2]);
  return out;
}

// Creates the lock file already locked: it appears under its name only once flock()ed, so a reaper
// never finds it unlocked while the run is being made.
int take_lock(const fs::path& dir) {
  const fs::path tmp = dir / ".lock.tmp";
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw Error("cannot create " + tmp.string() + ": " + errno_text(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || ::rename(tmp.c_str(), (dir / "lock").c_str()) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error("cannot lock " + dir.string() + ": " + errno_text(err));
  }
  return fd;
}

std::string format_identity(const char* prefix, const ProcessIdentity& id) {
  return std::string(prefix) + "_pid " + std::to_string(id.pid) + "\n" + prefix + "_start " +
         std::to_string(id.start_time) + "\n";
}

std::string format_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) out += "arg " + escape(arg) + "\n";
  return out;
}

}  // namespace

fs::path default_runs_root() {
  const char* tmpdir = std::getenv("TMPDIR");
  return fs::path(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp") / "faultline";
}

std::optional<ProcessStatus> read_process_status(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so start after the last
  // ')'. Fields 3 (state), 4 (ppid), 5 (pgrp) and 22 (starttime) are tokens 0, 1, 2 and 19.
  const std::string_view text(buf, static_cast<size_t>(n));
  const size_t paren = text.rfind(')');
  if (paren == std::string_view::npos) return std::nullopt;
  ProcessStatus out;
  size_t pos = paren + 2;
  for (int token = 0; token <= 19 && pos < text.size(); ++token) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const char* first = text.data() + pos;
    const char* last = text.data() + end;
    if (token == 0) out.state = *first;
    if (token == 1) std::from_chars(first, last, out.ppid);
    if (token == 2) std::from_chars(first, last, out.pgid);
    if (token == 19) {
      if (std::from_chars(first, last, out.start_time).ec != std::errc()) return std::nullopt;
      return out;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::optional<ProcessIdentity> ProcessIdentity::of(pid_t pid) {
  const auto status = read_process_status(pid);
  if (!status) return std::nullopt;
  return ProcessIdentity{pid, status->start_time};
}

bool ProcessIdentity::alive() const {
  const auto status = read_process_status(pid);
  return status && status->start_time == start_time && status->state != 'Z' && status->state != 'X';
}

fs::path child_record_path(const fs::path& run, pid_t pid) {
  return run / "children" / std::to_string(pid);
}

fs::path heal_record_path(const fs::path& run, std::uint64_t id) {
  char name[32];
  std::snprintf(name, sizeof name, "%010llu", static_cast<unsigned long long>(id));
  return run / "heal" / name;
}

RunDirectory RunDirectory::create(std::string_view label, const RunOptions& options) {
  const fs::path root = options.root.empty() ? default_runs_root() : options.root;
  ensure_root(root);
  auto state = std::make_shared<detail::RunState>();
  state->label = label;
  state->policy = options.cleanup;
  const std::string prefix = "run-" + utc_stamp() + "-" + std::to_string(::getpid()) + "-";
  // The watchdog comes first, before anything is on disk: a harness killed at any instant from
  // here on has its directory removed by it (see watchdog.h).
  for (int attempt = 0; state->dir.empty(); ++attempt) {
    const fs::path dir = root / (prefix + random_hex());
    if (options.watchdog) state->watchdog = Watchdog::start(dir, state->policy);
    if (::mkdir(dir.c_str(), 0700) == 0) {
      state->dir = dir;
    } else {
      const int err = errno;
      state->watchdog.disarm();
      if (err != EEXIST || attempt > 100) {
        throw Error("cannot create " + dir.string() + ": " + errno_text(err));
      }
    }
  }
  try {
    state->lock_fd = take_lock(state->dir);
    state->watchdog.hand_lock(state->lock_fd);
    for (const char* sub : {"children", "heal"}) {
      if (::mkdir((state->dir / sub).c_str(), 0700) != 0) {
        throw Error("cannot create " + (state->dir / sub).string() + ": " + errno_text(errno));
      }
    }
    const auto self = ProcessIdentity::of(::getpid()).value_or(ProcessIdentity{::getpid(), 0});
    std::string owner = "label " + escape(label) + "\n" + format_identity("owner", self);
    if (const auto watchdog = state->watchdog.identity()) {
      owner += format_identity("watchdog", *watchdog);
    }
    owner += "created " + utc_stamp() + "Z\n";
    write_record(state->dir, "owner", owner);
  } catch (...) {
    state->watchdog.disarm();
    std::error_code ec;
    fs::remove_all(state->dir, ec);
    throw;
  }
  return RunDirectory(std::move(state));
}

RunDirectory::RunDirectory(std::shared_ptr<detail::RunState> state) : state_(std::move(state)) {}

RunDirectory& RunDirectory::operator=(RunDirectory&& other) noexcept {
  if (this != &other) {
    try {
      close();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "faultline: %s\n", e.what());
    }
    state_ = std::move(other.state_);
  }
  return *this;
}

RunDirectory::~RunDirectory() {
  try {
    close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "faultline: %s\n", e.what());
  }
}

const fs::path& RunDirectory::path() const {
  return state_->dir;
}

const std::string& RunDirectory::label() const {
  return state_->label;
}

std::optional<ProcessIdentity> RunDirectory::watchdog() const {
  std::lock_guard lock(state_->mu);
  return state_->watchdog.identity();
}

void RunDirectory::record_child(const ChildRecord& child) {
  detail::record_child(*state_, child);
}

void RunDirectory::forget_child(pid_t pid) {
  detail::forget_child(*state_, pid);
}

std::uint64_t RunDirectory::add_heal_action(std::string description,
                                            std::vector<std::string> argv) {
  if (argv.empty()) throw Error("heal action '" + description + "' has no command");
  std::lock_guard lock(state_->mu);
  if (state_->closed) throw Error("run directory " + state_->dir.string() + " is closed");
  const std::uint64_t id = state_->next_heal_id++;
  const fs::path file = heal_record_path(state_->dir, id);
  write_record(file.parent_path(), file.filename().string(),
               "description " + escape(description) + "\n" + format_argv(argv));
  return id;
}

void RunDirectory::heal_done(std::uint64_t id) {
  std::lock_guard lock(state_->mu);
  if (!state_->closed) ::unlink(heal_record_path(state_->dir, id).c_str());
}

namespace {
std::string failed_heals(const ReapedRun& report) {
  std::string out;
  for (const auto& heal : report.heals) {
    if (heal.result != HealOutcome::Result::failed) continue;
    out += (out.empty() ? "" : "; ") + ("heal action '" + heal.heal.description + "' failed: ") +
           heal.detail;
  }
  return out;
}
}  // namespace

void RunDirectory::heal_all() {
  std::lock_guard lock(state_->mu);
  if (state_->closed) return;
  ReapedRun report;
  run_pending_heals(state_->dir, state_->policy, false, report);
  if (!report.all_healed()) throw Error(failed_heals(report));
}

void RunDirectory::close() {
  if (!state_) return;
  detail::RunState& run = *state_;
  std::lock_guard lock(run.mu);
  if (run.closed) return;
  run.closed = true;
  const ReapedRun report = reap_run(run.dir, run.policy, false);
  run.watchdog.disarm();
  ::close(std::exchange(run.lock_fd, -1));
  if (report.removed) return;
  const std::string why = report.all_healed() ? "it could not be removed" : failed_heals(report);
  throw Error("run directory " + run.dir.string() + " kept for `faultline reap`: " + why);
}

namespace detail {

void record_child(RunState& run, const ChildRecord& child) {
  std::lock_guard lock(run.mu);
  if (run.closed) throw Error("run directory " + run.dir.string() + " is closed");
  const std::string text =
      "pid " + std::to_string(child.process.pid) + "\npgid " + std::to_string(child.pgid) +
      "\nstart " + std::to_string(child.process.start_time) + "\n" + format_argv(child.argv);
  write_record(run.dir / "children", std::to_string(child.process.pid), text);
}

void forget_child(RunState& run, pid_t pid) noexcept {
  std::lock_guard lock(run.mu);
  if (!run.closed) ::unlink(child_record_path(run.dir, pid).c_str());
}

}  // namespace detail
}  // namespace faultline
