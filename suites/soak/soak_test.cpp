// The soak test of issue 9's "nothing left behind": start `faultline up` (fake and local
// backends) and `faultline chaos run <scenario>` (fake and local) as children, SIGKILL the harness
// at seeded kill points, and after every kill check — waiting, with a generous bound, until it
// holds — that nothing of the run survives it:
//   - no process descended from the killed harness (this test is a child subreaper, so orphans
//     come back to it instead of init; the pids and start times recorded before the kill, from
//     /proc and from the run directory's children/ records, must all be gone);
//   - no run directory left under the run's own $TMPDIR/faultline, and no PostgreSQL data
//     directory <pg_data_root()>/faultline-pg-<harness pid>-* (/dev/shm where it exists);
//   - no fault still applied: the pending heal actions of the run directory ran (the directory is
//     gone only when every one succeeded), no recorded process is left paused, no new network
//     namespace;
//   - no listening socket of the run: the inodes of the TCP sockets listening in the harness and
//     its descendants just before the kill are all gone from /proc/net/tcp{,6}.
// Kill points, drawn from the seeded Rng: after the k-th journal line, after the run directory
// shows a state (exists, a child recorded, a heal action pending), or after a delay — so the
// kills land in every phase: start-up, health checks, injection, healing, shutdown.
//
// The figures (kills, kill points, leftovers) are test properties in the ctest XML.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fakes/postgres/testing/real_postgres.h"
#include "harness/core/reaper.h"
#include "harness/core/supervisor.h"
#include "harness/testing/covers.h"
#include "harness/testing/process_testing.h"
#include "suites/soak/process_tree.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("soak");

namespace faultline::soak {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

constexpr int kWantedKills = 24;
constexpr int kMaxIterations = 48;  // a run that ends before its kill point is not a kill
const char* const kScenarios[] = {"network-partition", "redis-failure", "postgres-crash",
                                  "pool-exhaustion"};

enum class Mode { up_fake, up_local, chaos_fake, chaos_local };
const char* mode_name(Mode m) {
  switch (m) {
    case Mode::up_fake:
      return "up --backend fake";
    case Mode::up_local:
      return "up --backend local";
    case Mode::chaos_fake:
      return "chaos run --backend fake";
    case Mode::chaos_local:
      return "chaos run --backend local";
  }
  return "?";
}

enum class PointKind { journal_line, run_state, delay };
enum class RunState { exists, child_recorded, heal_pending };

struct KillPoint {
  PointKind kind = PointKind::delay;
  std::uint64_t value = 0;  // journal line k, RunState, or milliseconds
  std::string text() const {
    switch (kind) {
      case PointKind::journal_line:
        return "after journal line " + std::to_string(value);
      case PointKind::run_state:
        return std::string("after the run directory shows ") + (value == 0 ? "itself"
                                                                : value == 1
                                                                    ? "a child recorded"
                                                                    : "a heal action pending");
      case PointKind::delay:
        return "after " + std::to_string(value) + " ms";
    }
    return "?";
  }
};

std::vector<fs::path> run_dirs(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().starts_with("run-")) out.push_back(it->path());
  }
  return out;
}

size_t count_records(const fs::path& dir) {
  size_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->path().filename().string().starts_with(".")) ++n;
  }
  return n;
}

size_t count_lines(const fs::path& file) {
  std::ifstream in(file);
  return static_cast<size_t>(
      std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n'));
}

// Everything under `dir`, for a failure message.
std::string listing(const fs::path& dir) {
  std::string out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    out += " " + fs::relative(it->path(), dir, ec).string();
  }
  return out;
}

std::vector<fs::path> pg_data_dirs_of(pid_t harness) {
  std::vector<fs::path> out;
  const std::string prefix = "faultline-pg-" + std::to_string(harness) + "-";
  std::error_code ec;
  for (fs::directory_iterator it(testing::pg_data_root(), ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().filename().string().starts_with(prefix)) out.push_back(it->path());
  }
  return out;
}

// What the run has right before the kill.
struct Snapshot {
  std::vector<ProcessIdentity> processes;  // the harness's descendants and recorded children
  std::vector<ListeningSocket> listening;  // sockets of those processes in LISTEN
  size_t heal_pending = 0;
};

Snapshot take_snapshot(pid_t harness, const fs::path& runs_root) {
  Snapshot s;
  std::set<std::uint64_t> inodes = socket_inodes(harness);
  for (const pid_t pid : descendants_of(harness)) {
    if (const auto id = ProcessIdentity::of(pid)) s.processes.push_back(*id);
    const auto more = socket_inodes(pid);
    inodes.insert(more.begin(), more.end());
  }
  for (const auto& dir : run_dirs(runs_root)) {
    for (const auto& child : read_child_records(dir)) s.processes.push_back(child.process);
    s.heal_pending += read_heal_records(dir).size();
  }
  for (const auto& sock : listening_sockets()) {
    if (inodes.count(sock.inode)) s.listening.push_back(sock);
  }
  return s;
}

class Soak : public ::testing::Test {
 protected:
  void SetUp() override {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    if (const auto wd = testing::test_run_directory().watchdog()) own_watchdog_ = wd->pid;
    namespaces_before_ = network_namespaces();
  }
  void TearDown() override { ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0); }

  // Our descendants other than our own run's watchdog and the killed harness (a zombie until its
  // Child reaps it); zombies handed to us are reaped.
  std::vector<pid_t> leftover_descendants(pid_t harness = -1) {
    std::vector<pid_t> out;
    for (const pid_t pid : descendants_of(::getpid())) {
      if (pid == own_watchdog_) continue;
      const auto status = read_process_status(pid);
      if (pid == harness && status && status->state == 'Z') continue;
      if (status && status->state == 'Z' && status->ppid == ::getpid()) {
        ::waitpid(pid, nullptr, WNOHANG);
        continue;
      }
      if (status) out.push_back(pid);
    }
    return out;
  }

  // What is left of the run; empty when nothing is.
  std::vector<std::string> leftovers(pid_t harness, const Snapshot& before,
                                     const fs::path& runs_root) {
    std::vector<std::string> out;
    for (const pid_t pid : leftover_descendants(harness)) {
      out.push_back("descendant process " + describe_process(pid));
    }
    for (const auto& id : before.processes) {
      if (id.pid != harness && id.alive())
        out.push_back("recorded process " + describe_process(id.pid) + " alive");
    }
    if (!run_dirs(runs_root).empty() || count_records(runs_root) != 0) {
      out.push_back("run root not empty:" + listing(runs_root));
    }
    for (const auto& dir : pg_data_dirs_of(harness))
      out.push_back("data directory " + dir.string());
    const auto listening = listening_sockets();
    for (const auto& sock : before.listening) {
      const bool still = std::any_of(listening.begin(), listening.end(),
                                     [&](const auto& s) { return s.inode == sock.inode; });
      if (still) out.push_back("still listening: " + sock.text());
    }
    for (const auto& ns : network_namespaces()) {
      if (!namespaces_before_.count(ns) && ns.starts_with("fl-")) {
        out.push_back("network namespace " + ns);
      }
    }
    return out;
  }

  pid_t own_watchdog_ = -1;
  std::set<std::string> namespaces_before_;
};

TEST_F(Soak, SigkillAtSeededPointsLeavesNothingBehind) {
  Rng rng = testing::test_rng();
  testing::TempDir tmp;
  Supervisor supervisor(testing::test_run_directory());
  const fs::path tmpdir = tmp.path() / "tmp";  // the harness's $TMPDIR: its runs root is ours
  const fs::path runs_root = tmpdir / "faultline";
  fs::create_directories(tmpdir);

  int kills = 0, finished_first = 0, iteration = 0;
  std::vector<std::string> failures;
  std::string journal_of_kills;
  for (; kills < kWantedKills && iteration < kMaxIterations; ++iteration) {
    const auto mode = static_cast<Mode>(iteration % 4);
    const std::string scenario = kScenarios[rng.index(std::size(kScenarios))];
    KillPoint point;
    point.kind = static_cast<PointKind>(rng.index(3));
    switch (point.kind) {
      case PointKind::journal_line:
        point.value = rng.uniform(1, 12);
        break;
      case PointKind::run_state:
        point.value = rng.index(3);
        break;
      case PointKind::delay:
        point.value = rng.uniform(0, 2500);
        break;
    }
    const fs::path cwd = tmp.path() / ("iteration-" + std::to_string(iteration));
    fs::create_directories(cwd);
    std::vector<std::string> argv = {FAULTLINE_TEST_BINARY, "--log-level", "off"};
    const bool up = mode == Mode::up_fake || mode == Mode::up_local;
    const std::string backend =
        (mode == Mode::up_fake || mode == Mode::chaos_fake) ? "fake" : "local";
    const std::string seed = std::to_string(rng.uniform(1, 1000000));
    if (up) {
      argv.insert(argv.end(), {"up", "--backend", backend, "--seed", seed});
    } else {
      argv.insert(argv.end(),
                  {"chaos", "run", scenario, "--backend", backend, "--seed", seed, "--out", "out"});
    }
    const std::string what = std::string(mode_name(mode)) + (up ? "" : " " + scenario) + " (seed " +
                             seed + "), kill " + point.text();

    const auto started = SteadyClock::now();
    Child harness = supervisor.spawn(
        {argv, {{"TMPDIR", tmpdir.string()}}, cwd, cwd / "stdout", cwd / "stderr"});
    const pid_t harness_pid = harness.pid();
    const fs::path chaos_journal = cwd / "out" / scenario / "journal.jsonl";
    auto journal_lines = [&]() -> size_t {
      if (!up) return count_lines(chaos_journal);
      size_t n = 0;
      for (const auto& dir : run_dirs(runs_root)) n += count_lines(dir / "journal.jsonl");
      return n;
    };
    auto at_point = [&] {
      switch (point.kind) {
        case PointKind::journal_line:
          return journal_lines() >= point.value;
        case PointKind::run_state: {
          for (const auto& dir : run_dirs(runs_root)) {
            if (point.value == 0) return true;
            if (point.value == 1 && count_records(dir / "children") > 0) return true;
            if (point.value == 2 && count_records(dir / "heal") > 0) return true;
          }
          return false;
        }
        case PointKind::delay:
          return SteadyClock::now() - started >= milliseconds(point.value);
      }
      return true;
    };
    // A point the run never reaches (an `up` writes few journal lines) falls back to the bound.
    const bool reached =
        testing::wait_until([&] { return at_point() || !harness.running(); }, seconds(10));
    Snapshot before = take_snapshot(harness_pid, runs_root);
    if (!harness.running()) {
      ++finished_first;
      harness.wait();
      std::printf("[soak] %2d %s: the run ended first (%s)\n", iteration, what.c_str(),
                  harness.exit_status()->str().c_str());
    } else {
      // The harness stays an unreaped zombie until the checks are done: reaping it through the
      // Child would kill what is left in its process group, hiding a leftover from the check.
      harness.signal(SIGKILL);
      ++kills;
      std::printf(
          "[soak] %2d %s%s: killed with %zu processes, %zu listening sockets, %zu heal "
          "actions pending\n",
          iteration, what.c_str(), reached ? "" : " (point not reached in 10 s)",
          before.processes.size(), before.listening.size(), before.heal_pending);
      journal_of_kills += std::to_string(iteration) + ": " + what + "; ";
    }
    std::fflush(stdout);
    std::vector<std::string> left;
    const bool clean = testing::wait_until(
        [&] {
          left = leftovers(harness_pid, before, runs_root);
          return left.empty();
        },
        seconds(45));
    if (!harness.exit_status()) harness.wait();
    if (!clean) {
      std::string text = "iteration " + std::to_string(iteration) + " (" + what + "):";
      for (const auto& l : left) text += " [" + l + "]";
      failures.push_back(text);
      ADD_FAILURE() << text << "\nharness stderr: " << testing::read_file(cwd / "stderr");
      // Clean up for the next iteration (and so that this test leaves nothing either).
      for (const auto& id : before.processes) {
        if (id.alive()) ::kill(id.pid, SIGKILL);
      }
      reap_dead_runs(runs_root);
      leftover_descendants();
    }
    fs::remove_all(cwd);
  }
  RecordProperty("kills", kills);
  RecordProperty("iterations", iteration);
  RecordProperty("runs_ended_before_their_kill_point", finished_first);
  RecordProperty("leftover_failures", static_cast<int>(failures.size()));
  RecordProperty("kill_points", journal_of_kills);
  std::printf("[soak] %d kills in %d iterations, %zu with something left behind\n", kills,
              iteration, failures.size());
  EXPECT_GE(kills, 20) << "too few kills: most runs ended before their kill point";
  EXPECT_TRUE(failures.empty()) << failures.size() << " kills left something behind";
}

}  // namespace
}  // namespace faultline::soak
