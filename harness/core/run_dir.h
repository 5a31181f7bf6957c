// Run directory: what one harness run leaves on disk so that it can always be cleaned up.
//
// `RunDirectory::create` makes $TMPDIR/faultline/run-<utc stamp>-<pid>-<6 hex>/ holding
//   lock       flock()ed by the harness (and its watchdog) for as long as either lives; a run whose
//              lock can be taken is dead, whatever its pids have become since
//   owner      the harness's pid and start time, its watchdog's, the label and the creation time
//   children/  one file per supervised child: pid, process group, start time, argv
//   heal/      one file per fault still to heal: description and the argv that heals it
// Every file is written to a dot-name and renamed into place, so readers never see half of one.
// The records are plain "key value" lines (values escaped), readable by people and by the watchdog
// without any library that could be holding a lock at fork time; reaper.h has the readers. A
// recorded process is named by its ProcessIdentity (pid and start time), so a pid reused after
// the harness died is never taken for the process it once was.
//
// `close()` (and the destructor) kills the children still recorded, runs the pending heal actions
// newest first, removes the directory and dismisses the watchdog. If the harness dies first, the
// watchdog does the same; if the watchdog dies too, `faultline reap` does (see reaper.h). A heal
// action runs at least once and, unless the harness dies while it runs, exactly once: make heal
// actions idempotent. A heal that fails keeps the directory, with that action still pending, so
// that `faultline reap` can retry it; close() then throws.
//
// create() forks the watchdog: call it before the harness starts threads (see watchdog.h). A
// process forked from the harness without exec while the run is open holds the run's lock and
// watchdog pipe, so the run looks alive, and is not cleaned by the watchdog, until it exits too.
//
// The directory name is stamped with the wall clock on purpose: it is for people listing runs and
// plays no part in what a run does, so it does not go through the run's Clock.
//
// Thread-safety: the free functions and all members are thread-safe; close() waits for calls in
// progress. A moved-from RunDirectory may only be destroyed or assigned to.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

namespace detail {
struct RunState;
}

// How long a process gets between SIGTERM and SIGKILL unless the caller says otherwise.
inline constexpr std::chrono::milliseconds kDefaultGrace{2000};

// What /proc/<pid>/stat says about a process.
struct ProcessStatus {
  char state = '?';              // R, S, D, T, Z (zombie), X (dead), ...
  pid_t ppid = 0;                // parent
  pid_t pgid = 0;                // process group
  std::uint64_t start_time = 0;  // clock ticks after boot (field 22)
};
// nullopt if there is no such process (or /proc cannot be read).
std::optional<ProcessStatus> read_process_status(pid_t pid);

// A process as it can be recognised later: a pid alone may be reused after the process is reaped,
// the pair (pid, start time) is not.
struct ProcessIdentity {
  pid_t pid = 0;
  std::uint64_t start_time = 0;

  // The process that has `pid` now; nullopt if none.
  static std::optional<ProcessIdentity> of(pid_t pid);
  // True while this very process exists and has not exited (a zombie has exited).
  bool alive() const;

  friend bool operator==(const ProcessIdentity&, const ProcessIdentity&) = default;
};

// How hard cleaning a run tries.
struct CleanupPolicy {
  std::chrono::milliseconds kill_grace = kDefaultGrace;  // SIGTERM to SIGKILL
  std::chrono::milliseconds heal_timeout{30000};         // per heal action
};

struct RunOptions {
  std::filesystem::path root{};  // parent of the run directories; empty: default_runs_root()
  bool watchdog = true;          // false only for tests of the reaper
  CleanupPolicy cleanup{};
};

// The records, as read back from disk.
struct OwnerRecord {
  std::string label;
  ProcessIdentity owner;
  std::optional<ProcessIdentity> watchdog;
  std::string created;  // UTC, yyyymmddThhmmssZ
};
struct ChildRecord {
  ProcessIdentity process{};
  pid_t pgid = 0;
  std::vector<std::string> argv{};
};
struct HealRecord {
  std::uint64_t id = 0;
  std::string description;
  std::vector<std::string> argv;
};

// $TMPDIR/faultline, or /tmp/faultline when TMPDIR is unset or empty.
std::filesystem::path default_runs_root();

// Where a record lives; removing the file forgets the record.
std::filesystem::path child_record_path(const std::filesystem::path& run, pid_t pid);
std::filesystem::path heal_record_path(const std::filesystem::path& run, std::uint64_t id);

class RunDirectory {
 public:
  // Throws Error if the directory cannot be made, or if the parent exists but is not a directory
  // owned by us and closed to others (another user could otherwise plant files in our runs).
  static RunDirectory create(std::string_view label, const RunOptions& options = RunOptions());

  RunDirectory(RunDirectory&& other) noexcept = default;
  RunDirectory& operator=(RunDirectory&& other) noexcept;
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;
  ~RunDirectory();  // close(), reporting a failure on stderr

  const std::filesystem::path& path() const;
  const std::string& label() const;
  // The watchdog process, if this run has one.
  std::optional<ProcessIdentity> watchdog() const;

  // Children: Supervisor records and forgets its own; use these for processes started otherwise.
  // record_child throws Error once the run is closed; forget_child is then a no-op.
  void record_child(const ChildRecord& child);
  void forget_child(pid_t pid);

  // Registers how to heal a fault about to be applied; returns its id. Throws Error if argv is
  // empty or the run is closed. Register *before* injecting, so a kill in between still heals.
  std::uint64_t add_heal_action(std::string description, std::vector<std::string> argv);
  // The fault was healed some other way: forget its action.
  void heal_done(std::uint64_t id);
  // Runs every pending heal action, newest first; each one that succeeds is forgotten. Throws
  // Error naming the ones that failed (they stay pending).
  void heal_all();

  // Kills the children, heals, removes the directory, dismisses the watchdog. Idempotent. Throws
  // Error if a heal action failed (the directory is then kept for `faultline reap`).
  void close();

 private:
  friend class Supervisor;
  explicit RunDirectory(std::shared_ptr<detail::RunState> state);

  std::shared_ptr<detail::RunState> state_;
};

namespace detail {
// Used by Supervisor and Child, which may outlive the RunDirectory object itself.
void record_child(RunState& run, const ChildRecord& child);
void forget_child(RunState& run, pid_t pid) noexcept;
}  // namespace detail

}  // namespace faultline
