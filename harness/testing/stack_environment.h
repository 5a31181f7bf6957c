// StackEnvironment: a GoogleTest Environment that brings one stack up for a whole test program and
// takes it down after the last test, on the backend named by $FAULTLINE_BACKEND (fake, local or
// external; default fake). With external, $FAULTLINE_STAGING names the external stack file to
// attach to (e.g. one written by `faultline up --export-stack`); without it the environment
// reports the stack unavailable and tests that need it skip with that reason.
//
//   FAULTLINE_STACK_ENVIRONMENT("my_suite", "fixtures/stacks/default.yaml");  // relative to the
//                                                                             // source tree
//   TEST(MySuite, X) {
//     auto* redis = faultline::testing::stack_service_or_skip("redis");  // GTEST_SKIPs if absent
//     ...
//   }
//
// The environment makes its own RunDirectory in SetUp (before it starts any thread), so every
// server goes through the Supervisor and the watchdog; do not combine it with
// FAULTLINE_RUN_DIRECTORY_ENVIRONMENT in the same program — use test_stack_run_directory().
// Services the backend cannot run are left out with their reason (see StackSession).
//
// Thread safety: SetUp/TearDown run on the main thread; tests read the session from one thread.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "harness/backends/stack_session.h"
#include "harness/core/run_dir.h"

namespace faultline::testing {

class StackEnvironment : public ::testing::Environment {
 public:
  // `stack_file` relative paths are read from $FAULTLINE_SOURCE_DIR (set by ctest).
  StackEnvironment(std::string label, std::filesystem::path stack_file);
  ~StackEnvironment() override;
  void SetUp() override;
  void TearDown() override;

 private:
  std::string label_;
  std::filesystem::path stack_file_;
};

// The running session; throws faultline::Error (with why) when the stack could not come up.
backends::StackSession& test_stack();
RunDirectory& test_stack_run_directory();
// The backend the environment uses ($FAULTLINE_BACKEND, default "fake").
std::string test_backend();
// Why `service` is not running in the environment's stack, or nullopt when it is.
std::optional<std::string> stack_service_unavailable(const std::string& service);

}  // namespace faultline::testing

// The handle of a running service of the environment's stack, or GTEST_SKIP() with the reason.
#define FAULTLINE_STACK_SERVICE_OR_SKIP(var, service)                         \
  if (auto why_ = ::faultline::testing::stack_service_unavailable(service)) { \
    GTEST_SKIP() << "service '" << (service) << "' unavailable: " << *why_;   \
  }                                                                           \
  ::faultline::stack::ServiceHandle& var = *::faultline::testing::test_stack().handle(service)

#define FAULTLINE_STACK_ENVIRONMENT(label, stack_file)                                 \
  static ::testing::Environment* const faultline_stack_environment_ [[maybe_unused]] = \
      ::testing::AddGlobalTestEnvironment(                                             \
          new ::faultline::testing::StackEnvironment(label, stack_file))
