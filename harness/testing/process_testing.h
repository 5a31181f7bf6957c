// Helpers for tests that start processes and touch the file system: a bounded wait for a
// condition, a temporary directory, whole-file reads, and a subreaper that collects the orphans a
// test's processes leave so that nothing outlives the test.
//
// Thread safety: TempDir and Subreaper are owned by one test; wait_until polls from the caller's
// thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "harness/core/run_dir.h"

namespace faultline::testing {

// Polls `condition` until it holds (true) or `bound` has passed (false). The bound is generous on
// purpose: it is a limit on how long a broken test hangs, not a timing the test asserts.
template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds bound = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::string read_file(const std::filesystem::path& path);

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Makes this process the reaper of its descendants' orphans (instead of init), so the test reaps
// them itself. Whatever is still a child of this process at the end, which only a failed test
// leaves, is killed and reaped.
class Subreaper {
 public:
  Subreaper();
  ~Subreaper();
  Subreaper(const Subreaper&) = delete;
  Subreaper& operator=(const Subreaper&) = delete;
  // Waits (bounded) for `pid`, an orphan handed to us, to exit, and reaps it.
  bool reap(pid_t pid);
};

// A forked child that sets something up, reports one line, then waits to be SIGKILLed: a harness
// killed mid-run. `report` is what `setup` returned ("error <what>" if it threw), without a
// newline; empty if nothing came within `bound`. The child never returns from fork_holder, so what
// it must hold until it is killed `setup` allocates and never frees.
struct Holder {
  pid_t pid = -1;
  std::string report;
};
Holder fork_holder(const std::function<std::string()>& setup,
                   std::chrono::milliseconds bound = std::chrono::seconds(30));
void kill_holder(const Holder& holder);  // SIGKILL and reap

// One RunDirectory for a whole test program, made before any test starts a thread (creating a run
// forks its watchdog) and closed after the last test. Register it with
// FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("label") and reach it with test_run_directory().
class RunDirectoryEnvironment : public ::testing::Environment {
 public:
  explicit RunDirectoryEnvironment(std::string label) : label_(std::move(label)) {}
  void SetUp() override;
  void TearDown() override;

 private:
  std::string label_;
  std::optional<RunDirectory> run_;
};
// The environment's run directory; throws faultline::Error outside the environment's lifetime.
RunDirectory& test_run_directory();

}  // namespace faultline::testing

#define FAULTLINE_RUN_DIRECTORY_ENVIRONMENT(label)             \
  static const auto* const kFaultlineRunDirectoryEnvironment = \
      ::testing::AddGlobalTestEnvironment(                     \
          new ::faultline::testing::RunDirectoryEnvironment(label))
