// Tests of Supervisor and Child: process groups, termination of whole groups, exit statuses, and
// what a spawn that cannot start leaves behind (nothing).
#include "harness/core/supervisor.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/testing/process_testing.h"

#include "harness/core/error.h"
#include "harness/core/reaper.h"
#include "harness/core/run_dir.h"

namespace faultline {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::read_file;
using testing::Subreaper;
using testing::TempDir;
using testing::wait_until;

class SupervisorTest : public ::testing::Test {
 protected:
  // The pid a `sh -c '... & echo $! ...'` child wrote to `pid_file`, once it is there.
  pid_t grandchild_pid(const fs::path& pid_file) {
    if (!wait_until([&] { return fs::exists(pid_file); })) return 0;
    return static_cast<pid_t>(std::stol(read_file(pid_file)));
  }
  std::string write_pid_of_background_sleep(const fs::path& pid_file) {
    return "sleep 300 & echo $! > " + pid_file.string() + ".tmp && mv " + pid_file.string() +
           ".tmp " + pid_file.string();
  }

  TempDir tmp_;
  Subreaper subreaper_;
  RunDirectory run_ = RunDirectory::create("supervisor_test", {.root = tmp_.path() / "faultline"});
  Supervisor supervisor_{run_};
};

TEST_F(SupervisorTest, ChildLeadsItsOwnProcessGroupAndIsRecordedUntilReaped) {
  Child child = supervisor_.spawn({.argv = {"sleep", "300"}});
  const auto status = read_process_status(child.pid());
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->pgid, child.pid());
  EXPECT_NE(status->pgid, ::getpgrp());
  EXPECT_TRUE(child.running());

  const auto records = read_child_records(run_.path());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].process, child.identity());
  EXPECT_EQ(records[0].pgid, child.pid());
  EXPECT_EQ(records[0].argv, (std::vector<std::string>{"sleep", "300"}));

  const ExitStatus exit = child.terminate();
  EXPECT_EQ(exit.signal, SIGTERM);
  EXPECT_EQ(exit.str(), "killed by SIGTERM");
  EXPECT_FALSE(child.running());
  EXPECT_FALSE(child.identity().alive());
  EXPECT_TRUE(read_child_records(run_.path()).empty());
}

TEST_F(SupervisorTest, TerminateKillsGrandchildrenInTheGroup) {
  const fs::path pid_file = tmp_.path() / "grandchild";
  Child child =
      supervisor_.spawn({.argv = {"sh", "-c", write_pid_of_background_sleep(pid_file) + "; wait"}});
  const pid_t grandchild = grandchild_pid(pid_file);
  ASSERT_GT(grandchild, 0);
  ASSERT_EQ(read_process_status(grandchild).value().pgid, child.pgid());

  child.terminate();
  EXPECT_TRUE(subreaper_.reap(grandchild));
}

TEST_F(SupervisorTest, TerminateEscalatesToSigkillForAGroupIgnoringSigterm) {
  const fs::path pid_file = tmp_.path() / "grandchild";
  Child child = supervisor_.spawn(
      {.argv = {"sh", "-c",
                "trap '' TERM; " + write_pid_of_background_sleep(pid_file) + "; wait"}});
  const pid_t grandchild = grandchild_pid(pid_file);
  ASSERT_GT(grandchild, 0);

  EXPECT_EQ(child.terminate(50ms).signal, SIGKILL);
  EXPECT_TRUE(subreaper_.reap(grandchild));
}

TEST_F(SupervisorTest, WhatTheLeaderLeftInItsGroupDiesWhenItIsReaped) {
  const fs::path pid_file = tmp_.path() / "grandchild";
  Child child = supervisor_.spawn({.argv = {"sh", "-c", write_pid_of_background_sleep(pid_file)}});
  EXPECT_EQ(child.wait().code, 0);
  const pid_t grandchild = grandchild_pid(pid_file);
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(subreaper_.reap(grandchild));
}

TEST_F(SupervisorTest, PassesEnvironmentWorkingDirectoryAndOutputFilesAndReportsExitCode) {
  Child child = supervisor_.spawn({
      .argv = {"sh", "-c", "echo \"$FAULTLINE_TEST_VAR\"; pwd; echo oops >&2; exit 3"},
      .env = {{"FAULTLINE_TEST_VAR", "hello"}},
      .cwd = tmp_.path(),
      .stdout_path = tmp_.path() / "out",
      .stderr_path = tmp_.path() / "err",
  });
  const ExitStatus exit = child.wait();
  EXPECT_EQ(exit.code, 3);
  EXPECT_EQ(exit.str(), "exit 3");
  EXPECT_EQ(child.exit_status()->code, 3);
  EXPECT_EQ(read_file(tmp_.path() / "out"), "hello\n" + fs::canonical(tmp_.path()).string() + "\n");
  EXPECT_EQ(read_file(tmp_.path() / "err"), "oops\n");
}

TEST_F(SupervisorTest, ProgramThatCannotStartThrowsAndLeavesNoRecord) {
  EXPECT_THROW(supervisor_.spawn({.argv = {"/nonexistent/program"}}), Error);
  EXPECT_THROW(supervisor_.spawn({.argv = {"faultline-no-such-program"}}), Error);
  EXPECT_THROW(supervisor_.spawn({.argv = {"true"}, .cwd = tmp_.path() / "missing"}), Error);
  EXPECT_THROW(supervisor_.spawn({.argv = {}}), Error);
  EXPECT_TRUE(read_child_records(run_.path()).empty());
}

TEST_F(SupervisorTest, DestroyingAChildTerminatesIt) {
  ProcessIdentity id;
  {
    Child child = supervisor_.spawn({.argv = {"sleep", "300"}});
    id = child.identity();
    Child moved = std::move(child);
    EXPECT_FALSE(child.running());
    EXPECT_TRUE(moved.running());
  }
  EXPECT_FALSE(id.alive());
  EXPECT_FALSE(read_process_status(id.pid).has_value());
  EXPECT_TRUE(read_child_records(run_.path()).empty());
}

TEST_F(SupervisorTest, SpawningIntoAClosedRunThrows) {
  run_.close();
  EXPECT_THROW(supervisor_.spawn({.argv = {"sleep", "300"}}), Error);
}

TEST(ProcessIdentityTest, RecognisesAProcessByPidAndStartTime) {
  const auto self = ProcessIdentity::of(::getpid());
  ASSERT_TRUE(self.has_value());
  EXPECT_GT(self->start_time, 0u);
  EXPECT_TRUE(self->alive());
  EXPECT_FALSE((ProcessIdentity{self->pid, self->start_time + 1}).alive());
  EXPECT_EQ(process_group_state({self->pid, self->start_time + 1}, 0), GroupState::pid_reused);
  EXPECT_EQ(process_group_state(*self, 0), GroupState::running);

  const auto pid_max = std::stol(read_file("/proc/sys/kernel/pid_max"));
  const auto no_pid = static_cast<pid_t>(pid_max + 1);
  EXPECT_FALSE(ProcessIdentity::of(no_pid).has_value());
  EXPECT_EQ(process_group_state({no_pid, 1}, no_pid), GroupState::gone);
  EXPECT_TRUE(wait_for_exit(no_pid, 0ms));
}

TEST(RunToCompletionTest, ReportsExitStatusAndKillsOnTimeout) {
  EXPECT_TRUE(run_to_completion({"true"}, 20s).status.success());
  EXPECT_EQ(run_to_completion({"sh", "-c", "exit 4"}, 20s).status.code, 4);
  const CompletedProcess slow = run_to_completion({"sleep", "300"}, 10ms);
  EXPECT_TRUE(slow.timed_out);
  EXPECT_EQ(slow.status.signal, SIGKILL);
  EXPECT_THROW(run_to_completion({"faultline-no-such-program"}, 20s), Error);
}

}  // namespace
}  // namespace faultline
