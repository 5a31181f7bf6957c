// `faultline reap` and the watchdog share one list of heal actions: the run directory's heal/
// records, read by read_heal_records and run newest first by run_pending_heals, the one routine
// (reap_run) that RunDirectory::close, the watchdog and reap_dead_runs all call. Proven from the
// outside: the same actions, registered the same way by a process that is then SIGKILLed, run in
// the same order whether its watchdog, reap_dead_runs, or the `faultline reap` command heals them
// — and that order is what `faultline reap --dry-run` lists.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/core/error.h"
#include "harness/core/reaper.h"
#include "harness/core/supervisor.h"
#include "harness/testing/process_testing.h"

namespace faultline::soak {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

// A forked process registers heal actions appending their names to `log` — one, two, three, then
// two is done some other way, then four — reports on a pipe and waits to be SIGKILLed.
pid_t start_holder(const fs::path& root, const fs::path& log, bool watchdog) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw Error("pipe2 failed");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    try {
      auto* run =
          new RunDirectory(RunDirectory::create("heal-list", {.root = root, .watchdog = watchdog}));
      auto action = [&](const std::string& name) {
        return run->add_heal_action(
            name, {"/bin/sh", "-c", "echo " + name + " >> '" + log.string() + "'"});
      };
      action("one");
      const auto two = action("two");
      action("three");
      run->heal_done(two);
      action("four");
      [[maybe_unused]] const ssize_t n = ::write(fds[1], "ok\n", 3);
    } catch (...) {
      [[maybe_unused]] const ssize_t n = ::write(fds[1], "error\n", 6);
    }
    for (;;) ::pause();
  }
  ::close(fds[1]);
  pollfd p{fds[0], POLLIN, 0};
  char buf[8] = {};
  const bool ok =
      ::poll(&p, 1, 30000) > 0 && ::read(fds[0], buf, 3) == 3 && std::string(buf, 3) == "ok\n";
  ::close(fds[0]);
  if (!ok) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw Error("the holder did not register its heal actions");
  }
  return pid;
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

std::vector<std::string> lines(const fs::path& file) {
  std::vector<std::string> out;
  std::istringstream in(testing::read_file(file));
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

const std::vector<std::string> kExpected = {"four", "three", "one"};

TEST(HealList, WatchdogReaperAndReapCommandRunTheSameActionsInTheSameOrder) {
  testing::TempDir tmp;

  // The watchdog.
  const fs::path watched = tmp.path() / "watched";
  kill_and_reap(start_holder(watched, tmp.path() / "watchdog.log", true));
  ASSERT_TRUE(testing::wait_until([&] { return fs::exists(watched) && fs::is_empty(watched); },
                                  seconds(30)))
      << "the watchdog did not clean the run";
  EXPECT_EQ(lines(tmp.path() / "watchdog.log"), kExpected);

  // reap_dead_runs, after a dry run that lists the same actions in the same order.
  const fs::path unwatched = tmp.path() / "unwatched";
  kill_and_reap(start_holder(unwatched, tmp.path() / "reaper.log", false));
  const auto dry = reap_dead_runs(unwatched, true);
  ASSERT_EQ(dry.size(), 1u);
  std::vector<std::string> listed;
  for (const auto& heal : dry[0].heals) listed.push_back(heal.heal.description);
  EXPECT_EQ(listed, kExpected) << "the dry run lists what the watchdog ran";
  EXPECT_FALSE(fs::exists(tmp.path() / "reaper.log")) << "a dry run runs nothing";
  const auto reaped = reap_dead_runs(unwatched);
  ASSERT_EQ(reaped.size(), 1u);
  EXPECT_TRUE(reaped[0].removed) << describe(reaped[0]);
  EXPECT_EQ(lines(tmp.path() / "reaper.log"), kExpected);

  // The `faultline reap` command, on the default root of a $TMPDIR of ours.
  const fs::path tmpdir = tmp.path() / "tmp";
  fs::create_directories(tmpdir);
  const fs::path cli_root = tmpdir / "faultline";
  kill_and_reap(start_holder(cli_root, tmp.path() / "cli.log", false));
  RunDirectory checker = RunDirectory::create("heal-list-cli", {.root = tmp.path() / "own"});
  Supervisor supervisor(checker);
  Child reap = supervisor.spawn({{FAULTLINE_TEST_BINARY, "reap"},
                                 {{"TMPDIR", tmpdir.string()}},
                                 {},
                                 tmp.path() / "reap.out",
                                 tmp.path() / "reap.err"});
  const ExitStatus status = reap.wait();
  EXPECT_TRUE(status.success()) << status.str() << ": "
                                << testing::read_file(tmp.path() / "reap.err");
  EXPECT_EQ(lines(tmp.path() / "cli.log"), kExpected);
  EXPECT_TRUE(fs::is_empty(cli_root)) << testing::read_file(tmp.path() / "reap.out");
}

}  // namespace
}  // namespace faultline::soak
