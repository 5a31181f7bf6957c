#include "harness/core/reaper.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <string_view>
#include <utility>

#include "harness/core/error.h"
#include "harness/core/supervisor.h"

namespace faultline {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

// Records are "key value" lines whose values escape backslash and newline (see run_dir.cpp).
std::string unescape(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 1 < in.size()) {
      ++i;
      out += in[i] == 'n' ? '\n' : in[i];
    } else {
      out += in[i];
    }
  }
  return out;
}

using Fields = std::vector<std::pair<std::string, std::string>>;

Fields parse_fields(std::string_view text) {
  Fields fields;
  while (!text.empty()) {
    const size_t eol = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, eol);
    text.remove_prefix(std::min(eol + 1, text.size()));
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    fields.emplace_back(std::string(line.substr(0, space)), unescape(line.substr(space + 1)));
  }
  return fields;
}

template <typename Int>
bool parse_int(const std::string& text, Int& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Whole small file, through plain syscalls (the watchdog reads records too).
std::optional<std::string> read_text(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) text.append(buf, static_cast<size_t>(n));
    if (text.size() > (1 << 20)) break;
  }
  ::close(fd);
  if (n < 0) return std::nullopt;
  return text;
}

// Files of `dir` whose names do not start with a dot (dot-files are records being written).
std::vector<fs::path> record_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->path().filename().string().starts_with(".")) out.push_back(it->path());
  }
  return out;
}

// The group a record may be signalled through: only one the child leads (Supervisor's always do).
// Signalling someone else's group id, such as the harness's own, could hit bystanders.
pid_t own_group(const ChildRecord& child) {
  return child.pgid == child.process.pid ? child.pgid : 0;
}

void signal_child(const ChildRecord& child, int sig) {
  if (const pid_t group = own_group(child); group > 0) {
    ::kill(-group, sig);
  } else if (child.process.alive()) {
    ::kill(child.process.pid, sig);
  }
}

std::string plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// Holds a dead run's lock while it is being cleaned.
class RunClaim {
 public:
  explicit RunClaim(int fd) : fd_(fd) {}
  RunClaim(RunClaim&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  RunClaim& operator=(RunClaim&&) = delete;
  ~RunClaim() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_;
};

// nullopt if the run is alive (its harness or watchdog holds the lock) or was reaped meanwhile.
std::optional<RunClaim> claim_dead_run(const fs::path& run) {
  const int fd = ::open((run / "lock").c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) {
    RunClaim claim(fd);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) return std::nullopt;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_nlink == 0) return std::nullopt;  // another reaper's now
    return claim;
  }
  if (errno != ENOENT) return std::nullopt;
  // No lock file: its harness died inside RunDirectory::create, or is in it right now. The name
  // is run-<stamp>-<pid>-<hex>; the run is dead when that pid is. A name that says no pid is not
  // one of ours: leave it.
  const std::string name = run.filename().string();
  const size_t last = name.rfind('-');
  const size_t before = last == std::string::npos ? last : name.rfind('-', last - 1);
  pid_t pid = 0;
  if (before == std::string::npos || before >= last ||
      std::from_chars(name.data() + before + 1, name.data() + last, pid).ec != std::errc() ||
      pid <= 0) {
    return std::nullopt;
  }
  if (::kill(pid, 0) == 0 || errno == EPERM) return std::nullopt;
  return RunClaim(-1);
}

}  // namespace

std::optional<OwnerRecord> read_owner_record(const fs::path& run) {
  const auto text = read_text(run / "owner");
  if (!text) return std::nullopt;
  OwnerRecord out;
  ProcessIdentity watchdog;
  for (const auto& [key, value] : parse_fields(*text)) {
    if (key == "label") out.label = value;
    if (key == "created") out.created = value;
    if (key == "owner_pid") parse_int(value, out.owner.pid);
    if (key == "owner_start") parse_int(value, out.owner.start_time);
    if (key == "watchdog_pid") parse_int(value, watchdog.pid);
    if (key == "watchdog_start") parse_int(value, watchdog.start_time);
  }
  if (out.owner.pid <= 0) return std::nullopt;
  if (watchdog.pid > 0) out.watchdog = watchdog;
  return out;
}

std::vector<ChildRecord> read_child_records(const fs::path& run) {
  std::vector<ChildRecord> out;
  for (const auto& file : record_files(run / "children")) {
    const auto text = read_text(file);
    if (!text) continue;
    ChildRecord child;
    for (const auto& [key, value] : parse_fields(*text)) {
      if (key == "pid") parse_int(value, child.process.pid);
      if (key == "pgid") parse_int(value, child.pgid);
      if (key == "start") parse_int(value, child.process.start_time);
      if (key == "arg") child.argv.push_back(value);
    }
    if (child.process.pid > 0) out.push_back(std::move(child));
  }
  return out;
}

std::vector<HealRecord> read_heal_records(const fs::path& run) {
  std::vector<HealRecord> out;
  for (const auto& file : record_files(run / "heal")) {
    const auto text = read_text(file);
    HealRecord heal;
    if (!text || !parse_int(file.filename().string(), heal.id)) continue;
    for (const auto& [key, value] : parse_fields(*text)) {
      if (key == "description") heal.description = value;
      if (key == "arg") heal.argv.push_back(value);
    }
    out.push_back(std::move(heal));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

GroupState process_group_state(const ProcessIdentity& leader, pid_t pgid) {
  const auto status = read_process_status(leader.pid);
  if (status) {
    return status->start_time == leader.start_time ? GroupState::running : GroupState::pid_reused;
  }
  // The leader is gone. Its group id cannot be handed out again while members are left, so any
  // process still in group `pgid` is a leftover of it (see reaper.h for the one caveat).
  if (pgid > 0 && (::kill(-pgid, 0) == 0 || errno == EPERM)) return GroupState::running;
  return GroupState::gone;
}

bool ReapedRun::all_healed() const {
  return std::none_of(heals.begin(), heals.end(), [](const HealOutcome& heal) {
    return heal.result == HealOutcome::Result::failed;
  });
}

void stop_recorded_children(const fs::path& run, const CleanupPolicy& policy, bool dry_run,
                            ReapedRun& out) {
  // SIGTERM to every group first and one grace for all, so ten stubborn children cost one grace.
  const size_t first = out.children.size();
  std::vector<ChildRecord> signalled;
  for (auto& child : read_child_records(run)) {
    ChildOutcome outcome{std::move(child), ChildOutcome::Action::gone};
    const ChildRecord& record = outcome.child;
    switch (process_group_state(record.process, own_group(record))) {
      case GroupState::running:
        outcome.action = ChildOutcome::Action::stopped;
        if (dry_run) break;
        signal_child(record, SIGTERM);
        signal_child(record, SIGCONT);  // a paused group could not act on the SIGTERM
        signalled.push_back(record);
        break;
      case GroupState::pid_reused:
        outcome.action = ChildOutcome::Action::pid_reused;
        break;
      case GroupState::gone:
        break;
    }
    out.children.push_back(std::move(outcome));
  }
  if (dry_run) return;
  const auto deadline = SteadyClock::now() + policy.kill_grace;
  for (const auto& child : signalled) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (child.process.alive()) {
      wait_for_exit(child.process.pid, std::max(left, std::chrono::milliseconds(0)));
    }
  }
  for (const auto& child : signalled) {
    // Looked at again: the leader may have been reaped, and its pid reused, during the grace.
    if (process_group_state(child.process, own_group(child)) == GroupState::running) {
      signal_child(child, SIGKILL);
    }
  }
  for (size_t i = first; i < out.children.size(); ++i) {
    ::unlink(child_record_path(run, out.children[i].child.process.pid).c_str());
  }
}

void run_pending_heals(const fs::path& run, const CleanupPolicy& policy, bool dry_run,
                       ReapedRun& out) {
  auto heals = read_heal_records(run);
  std::reverse(heals.begin(), heals.end());  // undo faults in the reverse order of doing them
  for (auto& heal : heals) {
    HealOutcome outcome{std::move(heal), HealOutcome::Result::not_run, ""};
    if (!dry_run) {
      outcome.result = HealOutcome::Result::failed;
      try {
        const CompletedProcess done = run_to_completion(outcome.heal.argv, policy.heal_timeout);
        if (done.timed_out) {
          outcome.detail = "timed out after " + std::to_string(policy.heal_timeout.count()) + " ms";
        } else if (!done.status.success()) {
          outcome.detail = done.status.str();
        } else {
          outcome.result = HealOutcome::Result::healed;
          ::unlink(heal_record_path(run, outcome.heal.id).c_str());
        }
      } catch (const std::exception& e) {
        outcome.detail = e.what();
      }
    }
    out.heals.push_back(std::move(outcome));
  }
}

ReapedRun reap_run(const fs::path& run, const CleanupPolicy& policy, bool dry_run) {
  ReapedRun out;
  out.dir = run;
  out.dry_run = dry_run;
  out.owner = read_owner_record(run);
  stop_recorded_children(run, policy, dry_run, out);
  run_pending_heals(run, policy, dry_run, out);
  if (!dry_run && out.all_healed()) {
    std::error_code ec;
    fs::remove_all(run, ec);
    out.removed = !ec;
  }
  return out;
}

std::vector<ReapedRun> reap_dead_runs(const fs::path& root, bool dry_run,
                                      const CleanupPolicy& policy) {
  std::error_code ec;
  fs::directory_iterator it(root, ec);
  if (ec == std::errc::no_such_file_or_directory) return {};
  std::vector<fs::path> runs;
  for (const fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code gone;  // an entry removed meanwhile is simply not a run
    if (name.starts_with("run-") && it->symlink_status(gone).type() == fs::file_type::directory) {
      runs.push_back(it->path());
    }
  }
  if (ec) throw Error("cannot read " + root.string() + ": " + ec.message());
  std::sort(runs.begin(), runs.end());
  std::vector<ReapedRun> out;
  for (const auto& run : runs) {
    if (const auto claim = claim_dead_run(run)) out.push_back(reap_run(run, policy, dry_run));
  }
  return out;
}

std::string describe(const ReapedRun& run) {
  const bool dry = run.dry_run;
  std::string out = (dry ? "would reap " : "reaped ") + run.dir.filename().string();
  if (run.owner) {
    out += " (harness pid " + std::to_string(run.owner->owner.pid);
    if (!run.owner->label.empty()) out += ", \"" + run.owner->label + "\"";
    out += ")";
  }
  const auto count_children = [&](ChildOutcome::Action action) {
    return static_cast<size_t>(std::count_if(run.children.begin(), run.children.end(),
                                             [&](const auto& c) { return c.action == action; }));
  };
  std::vector<std::string> parts;
  if (const size_t n = count_children(ChildOutcome::Action::stopped); n > 0) {
    parts.push_back((dry ? "would stop " : "stopped ") +
                    plural(n, "process group", "process groups"));
  }
  if (const size_t n = count_children(ChildOutcome::Action::pid_reused); n > 0) {
    parts.push_back("left " + plural(n, "reused pid", "reused pids") + " alone");
  }
  size_t healed = 0;
  for (const auto& heal : run.heals) {
    if (heal.result == HealOutcome::Result::healed) ++healed;
    if (heal.result == HealOutcome::Result::failed) {
      parts.push_back("heal '" + heal.heal.description + "' failed: " + heal.detail);
    }
  }
  if (dry && !run.heals.empty()) {
    parts.push_back("would run " + plural(run.heals.size(), "heal action", "heal actions"));
  }
  if (healed > 0) parts.push_back("healed " + plural(healed, "fault", "faults"));
  if (dry) {
    parts.push_back("would remove its directory");
  } else {
    parts.push_back(run.removed ? "removed its directory" : "kept its directory for a later reap");
  }
  for (size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? ": " : ", ") + parts[i];
  return out;
}

}  // namespace faultline
