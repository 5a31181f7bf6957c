// Reaper: cleans what runs left behind, from their run directories (see run_dir.h).
//
// `reap_run` is the one cleanup routine of the project: RunDirectory::close() calls it on a clean
// exit, the watchdog when the harness died, and `reap_dead_runs` (`faultline reap`) when both
// died. It stops each recorded child's process group (SIGTERM and SIGCONT, a grace measured on
// the group's leader, then SIGKILL), but only if the leader's start time still matches the record:
// a pid that now belongs to another process is never signalled. A leader that is gone while its
// group still has members is stopped through the group: Linux does not hand out a pid that still
// names a process group, so those members are the child's leftovers. (The one case this misreads
// is a pid reused, made a group leader, and dead again with its own group left behind, all
// between the harness's death and the reap; it is not worth guarding against.) It then runs the
// pending heal actions newest first and, if all of them succeeded, removes the directory. A heal
// action that fails stays pending and keeps the directory, so that a later reap retries it.
//
// `reap_dead_runs` looks at every run-* directory under the root and cleans those whose lock it can
// take: the harness and its watchdog hold the lock for as long as either lives, and the kernel
// drops it when both are gone, so no pid comparison is needed to tell a dead run from a live one
// (the owner record keeps pids and start times for people). Holding the lock while cleaning also
// keeps two reapers off the same run. A run directory without a lock file (its harness died inside
// create()) is dead when the pid in its name is.
//
// Thread-safety: the functions are thread-safe; two reapers (threads or processes) never clean the
// same run at once. reap_run's caller must own the run (hold its lock, or be its harness).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/run_dir.h"

namespace faultline {

// Readers for the watchdog and the reaper. They never throw on a missing or malformed file; they
// skip it (a run killed while writing leaves at most a dot-file behind).
std::optional<OwnerRecord> read_owner_record(const std::filesystem::path& run);
std::vector<ChildRecord> read_child_records(const std::filesystem::path& run);
std::vector<HealRecord> read_heal_records(const std::filesystem::path& run);  // oldest first

// What can be done about a recorded process group, given its leader's identity.
enum class GroupState {
  running,     // the leader (possibly a zombie) or members of its group are still there
  gone,        // neither the leader nor any member of the group exists
  pid_reused,  // the leader's pid now belongs to another process: leave it alone
};
GroupState process_group_state(const ProcessIdentity& leader, pid_t pgid);

struct ChildOutcome {
  ChildRecord child;
  // stopped: its group was signalled (in a dry run: would be). gone: nothing left to stop.
  // pid_reused: its pid now belongs to another process, which was left alone.
  enum class Action { stopped, gone, pid_reused } action = Action::gone;
};

struct HealOutcome {
  HealRecord heal;
  // not_run: a dry run.
  enum class Result { healed, failed, not_run } result = Result::not_run;
  std::string detail;  // why it failed
};

struct ReapedRun {
  std::filesystem::path dir;
  std::optional<OwnerRecord> owner;
  std::vector<ChildOutcome> children;
  std::vector<HealOutcome> heals;  // in the order they ran (newest action first)
  bool dry_run = false;
  bool removed = false;

  bool all_healed() const;
};

// Cleans one run whose caller owns it (see above). With `dry_run` it only says what it would do.
ReapedRun reap_run(const std::filesystem::path& run, const CleanupPolicy& policy, bool dry_run);
// The two halves of reap_run, for RunDirectory: they append to `out`.
void stop_recorded_children(const std::filesystem::path& run, const CleanupPolicy& policy,
                            bool dry_run, ReapedRun& out);
void run_pending_heals(const std::filesystem::path& run, const CleanupPolicy& policy, bool dry_run,
                       ReapedRun& out);

// Cleans every dead run under `root`; live runs are left alone. A missing root is no error.
// Returns what it did (or would do), one entry per dead run, in name order.
std::vector<ReapedRun> reap_dead_runs(const std::filesystem::path& root = default_runs_root(),
                                      bool dry_run = false, const CleanupPolicy& policy = {});

// One line for people: "reaped run-… (harness pid 12, "label"): stopped 1 process group, …".
std::string describe(const ReapedRun& run);

}  // namespace faultline
