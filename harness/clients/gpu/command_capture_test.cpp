// run_captured: output, exit codes, a missing program, and a hung one killed at the timeout.
#include <gtest/gtest.h>

#include <signal.h>

#include "harness/clients/gpu/command_capture.h"
#include "harness/core/run_dir.h"
#include "harness/testing/process_testing.h"

namespace faultline::clients {
namespace {

TEST(RunCaptured, CapturesBothStreamsAndTheExitCode) {
  const auto r = run_captured({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, {},
                              std::chrono::seconds(20));
  ASSERT_TRUE(r.started) << r.error;
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(r.exit_code, 3);
}

TEST(RunCaptured, PassesTheEnvironment) {
  const auto r = run_captured({"sh", "-c", "printf %s \"$GPU_TEST_VALUE\""},
                              {{"GPU_TEST_VALUE", "abc"}}, std::chrono::seconds(20));
  ASSERT_TRUE(r.started) << r.error;
  EXPECT_EQ(r.out, "abc");
}

TEST(RunCaptured, MissingProgramIsReported) {
  auto r = run_captured({"faultline-no-such-program"}, {{"PATH", "/nonexistent"}},
                        std::chrono::seconds(1));
  EXPECT_FALSE(r.started);
  EXPECT_NE(r.error.find("not found in PATH"), std::string::npos) << r.error;
  r = run_captured({"/nonexistent/nvidia-smi"}, {}, std::chrono::seconds(1));
  EXPECT_FALSE(r.started);
}

TEST(RunCaptured, KillsAHungProgramAndItsChildrenAtTheTimeout) {
  // The shell starts a child that would outlive it; both go with the process group.
  // The timeout is long enough for the shell to print its child's pid however loaded the machine;
  // the test waits for it in full.
  const auto r =
      run_captured({"/bin/sh", "-c", "sleep 300 & echo $!; wait"}, {}, std::chrono::seconds(5));
  ASSERT_TRUE(r.started);
  ASSERT_FALSE(r.out.empty());
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.signal, SIGKILL);
  const pid_t grandchild = std::stoi(r.out);
  // Killed: gone, or a zombie waiting for whoever adopted it.
  EXPECT_TRUE(faultline::testing::wait_until([grandchild] {
    const auto status = read_process_status(grandchild);
    return !status || status->state == 'Z' || status->state == 'X';
  })) << "the shell's child survived";
}

}  // namespace
}  // namespace faultline::clients
