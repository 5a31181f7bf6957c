// Tests of the reaper: dead runs are cleaned, live ones are not, a reused pid is never signalled,
// a dry run changes nothing, and a heal that failed is retried by the next reap.
#include "harness/core/reaper.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "harness/testing/process_testing.h"

#include "harness/core/error.h"
#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"

namespace faultline {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::read_file;
using testing::Subreaper;
using testing::TempDir;
using testing::wait_until;

// A forked process that runs `body` and then stays until killed (by the test, or the destructor).
// With `own_group` it leads a process group of its own as soon as the constructor returns.
class Forked {
 public:
  explicit Forked(const std::function<void()>& body, bool own_group = false) {
    pid_ = ::fork();
    if (pid_ == 0) {
      try {
        body();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "forked: %s\n", e.what());
        ::_exit(1);
      }
      for (;;) ::pause();
    }
    if (own_group) ::setpgid(pid_, pid_);
    identity_ = ProcessIdentity::of(pid_).value_or(ProcessIdentity{pid_, 0});
  }
  ~Forked() { kill(); }
  pid_t pid() const { return pid_; }
  const ProcessIdentity& identity() const { return identity_; }
  // Waits (bounded) for it to exit by itself, reaps it, and returns its raw wait status.
  int wait_exit() {
    int status = -1;
    wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; });
    pid_ = -1;
    return status;
  }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  ProcessIdentity identity_;
};

// A `sleep 300` of the test's own, leader of its own group.
Forked sleeper() {
  return Forked(
      [] {
        ::setpgid(0, 0);
        ::execlp("sleep", "sleep", "300", nullptr);
        ::_exit(127);
      },
      true);
}

// Creates a run without a watchdog in a forked "harness", lets `fill` record things in it, and
// kills the harness with SIGKILL. Returns the run's directory, now that of a dead run.
fs::path dead_run(const fs::path& root, const std::function<void(RunDirectory&)>& fill) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw Error("pipe2 failed");
  Forked harness([&] {
    ::close(fds[0]);
    RunDirectory run = RunDirectory::create("dead run", {.root = root, .watchdog = false});
    fill(run);
    const std::string path = run.path().string() + "\n";
    if (::write(fds[1], path.data(), path.size()) < 0) ::_exit(1);
    for (;;) ::pause();
  });
  ::close(fds[1]);
  std::string path;
  char buf[512];
  pollfd ready{fds[0], POLLIN, 0};
  while (path.find('\n') == std::string::npos && ::poll(&ready, 1, 20000) == 1) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    path.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  harness.kill();
  if (path.empty()) throw Error("the fake harness reported nothing");
  return path.substr(0, path.size() - 1);
}

class ReaperTest : public ::testing::Test {
 protected:
  std::vector<std::string> append(const std::string& line) {
    return {"sh", "-c", "echo " + line + " >> " + log_.string()};
  }

  TempDir tmp_;
  fs::path root_ = tmp_.path() / "faultline";
  fs::path log_ = tmp_.path() / "heal.log";
};

TEST_F(ReaperTest, DryRunChangesNothingThenReapCleansTheDeadRun) {
  Forked child = sleeper();
  const fs::path dir = dead_run(root_, [&](RunDirectory& run) {
    run.record_child({child.identity(), child.pid(), {"sleep", "300"}});
    run.add_heal_action("append healed", append("healed"));
  });

  const auto dry = reap_dead_runs(root_, true);
  ASSERT_EQ(dry.size(), 1u);
  EXPECT_TRUE(dry[0].dry_run);
  ASSERT_EQ(dry[0].children.size(), 1u);
  EXPECT_EQ(dry[0].children[0].action, ChildOutcome::Action::stopped);
  ASSERT_EQ(dry[0].heals.size(), 1u);
  EXPECT_EQ(dry[0].heals[0].result, HealOutcome::Result::not_run);
  EXPECT_EQ(describe(dry[0]).rfind("would reap " + dir.filename().string(), 0), 0u)
      << describe(dry[0]);
  EXPECT_TRUE(child.identity().alive());
  EXPECT_FALSE(fs::exists(log_));
  EXPECT_EQ(read_child_records(dir).size(), 1u);
  EXPECT_EQ(read_heal_records(dir).size(), 1u);

  const auto reaped = reap_dead_runs(root_);
  ASSERT_EQ(reaped.size(), 1u);
  EXPECT_EQ(reaped[0].dir, dir);
  ASSERT_TRUE(reaped[0].owner.has_value());
  EXPECT_EQ(reaped[0].owner->label, "dead run");
  EXPECT_EQ(reaped[0].children[0].action, ChildOutcome::Action::stopped);
  EXPECT_EQ(reaped[0].heals[0].result, HealOutcome::Result::healed);
  EXPECT_TRUE(reaped[0].removed);
  EXPECT_EQ(describe(reaped[0]),
            "reaped " + dir.filename().string() + " (harness pid " +
                std::to_string(reaped[0].owner->owner.pid) +
                ", \"dead run\"): stopped 1 process group, healed 1 fault, removed its directory");
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_EQ(read_file(log_), "healed\n");
  const int status = child.wait_exit();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;

  EXPECT_TRUE(reap_dead_runs(root_).empty());
}

TEST_F(ReaperTest, ARecordWhosePidWasReusedIsNotSignalled) {
  Forked bystander = sleeper();
  const ProcessIdentity reused{bystander.pid(), bystander.identity().start_time + 1};
  dead_run(root_, [&](RunDirectory& run) { run.record_child({reused, reused.pid, {"sleep"}}); });

  const auto reaped = reap_dead_runs(root_);
  ASSERT_EQ(reaped.size(), 1u);
  ASSERT_EQ(reaped[0].children.size(), 1u);
  EXPECT_EQ(reaped[0].children[0].action, ChildOutcome::Action::pid_reused);
  EXPECT_TRUE(reaped[0].removed);
  EXPECT_TRUE(bystander.identity().alive());
}

TEST_F(ReaperTest, LiveRunsAreLeftAlone) {
  RunDirectory with_watchdog = RunDirectory::create("live", {.root = root_});
  RunDirectory without = RunDirectory::create("live", {.root = root_, .watchdog = false});
  with_watchdog.add_heal_action("append healed", append("healed"));
  EXPECT_TRUE(reap_dead_runs(root_).empty());
  EXPECT_TRUE(fs::exists(with_watchdog.path() / "heal"));
  EXPECT_TRUE(fs::exists(without.path() / "owner"));
  EXPECT_FALSE(fs::exists(log_));
}

TEST_F(ReaperTest, ARunIsAliveWhileAnyHolderOfItsLockLives) {
  // A process forked (without exec) from the harness shares its lock, as the watchdog does: the
  // run stays alive after the harness's death until that process is gone too. The holder is
  // orphaned when the harness dies; it is handed to this process, which reaps (or kills) it.
  Subreaper subreaper;
  const fs::path pid_file = tmp_.path() / "holder";
  const fs::path dir = dead_run(root_, [&](RunDirectory&) {
    const pid_t holder = ::fork();
    if (holder == 0) {
      for (;;) ::pause();
    }
    std::ofstream(pid_file) << holder;
  });
  const auto holder = static_cast<pid_t>(std::stol(read_file(pid_file)));
  EXPECT_TRUE(reap_dead_runs(root_).empty());
  EXPECT_TRUE(fs::exists(dir));

  ASSERT_EQ(read_process_status(holder).value().ppid, ::getpid());
  ::kill(holder, SIGKILL);  // an orphan handed to us, unreaped: the pid is still the holder's
  ASSERT_EQ(::waitpid(holder, nullptr, 0), holder);
  const auto reaped = reap_dead_runs(root_);
  ASSERT_EQ(reaped.size(), 1u);
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(ReaperTest, ARunWithoutLockFileIsDeadWhenThePidInItsNameIs) {
  ASSERT_EQ(::mkdir(root_.c_str(), 0700), 0);
  const auto no_pid = std::stol(read_file("/proc/sys/kernel/pid_max")) + 1;
  const fs::path dead = root_ / ("run-20240101T000000-" + std::to_string(no_pid) + "-abcdef");
  const fs::path live = root_ / ("run-20240101T000000-" + std::to_string(::getpid()) + "-abcdef");
  fs::create_directories(dead / "children");
  fs::create_directories(live / "children");
  fs::create_directories(root_ / "not-a-run");

  const auto reaped = reap_dead_runs(root_);
  ASSERT_EQ(reaped.size(), 1u);
  EXPECT_EQ(reaped[0].dir, dead);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(root_ / "not-a-run"));
}

TEST_F(ReaperTest, AFailedHealKeepsTheRunForTheNextReap) {
  const fs::path flag = tmp_.path() / "flag";
  RunDirectory run = RunDirectory::create("failing heal", {.root = root_});
  run.add_heal_action("needs flag",
                      {"sh", "-c", "test -e " + flag.string() + " && echo ok >> " + log_.string()});
  const fs::path dir = run.path();
  EXPECT_THROW(run.close(), Error);
  EXPECT_TRUE(fs::exists(dir));
  EXPECT_EQ(read_heal_records(dir).size(), 1u);

  const auto failed = reap_dead_runs(root_);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].heals[0].result, HealOutcome::Result::failed);
  EXPECT_EQ(failed[0].heals[0].detail, "exit 1");
  EXPECT_FALSE(failed[0].removed);

  std::ofstream(flag) << "go";
  const auto reaped = reap_dead_runs(root_);
  ASSERT_EQ(reaped.size(), 1u);
  EXPECT_EQ(reaped[0].heals[0].result, HealOutcome::Result::healed);
  EXPECT_TRUE(reaped[0].removed);
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_EQ(read_file(log_), "ok\n");
}

TEST_F(ReaperTest, AMissingRootHasNothingToReap) {
  EXPECT_TRUE(reap_dead_runs(tmp_.path() / "missing").empty());
}

}  // namespace
}  // namespace faultline
