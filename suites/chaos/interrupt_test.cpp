// SIGINT and SIGTERM in the middle of a chaos run: the run stops, heals every fault it injected,
// runs the rollbacks, records the verdict "unknown" with the reason, and exits 1 — as a person
// pressing Ctrl-C on a staging run, or a CI job being cancelled, would need.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/core/supervisor.h"
#include "harness/testing/process_testing.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("chaos_interrupt");

namespace faultline::chaos {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class Interrupt : public ::testing::TestWithParam<int> {};

TEST_P(Interrupt, HealsTheFaultsRunsTheRollbacksAndSaysUnknown) {
  testing::TempDir tmp;
  const fs::path dir = tmp.path();
  Supervisor supervisor(testing::test_run_directory());
  // redis-failure pauses Redis for a while: the cache waits out real timeouts meanwhile, which
  // leaves time to interrupt it with the fault applied.
  Child child =
      supervisor.spawn({{FAULTLINE_TEST_BINARY, "--log-level", "off", "chaos", "run",
                         "redis-failure", "--backend", "fake", "--seed", "7", "--out", "out"},
                        {},
                        dir,
                        dir / "stdout",
                        dir / "stderr"});
  const fs::path journal = dir / "out" / "redis-failure" / "journal.jsonl";
  ASSERT_TRUE(testing::wait_until(
      [&] { return count(slurp(journal), "\"kind\":\"fault.inject\"") > 0 || !child.running(); },
      std::chrono::seconds(60)))
      << "no fault was injected";
  ASSERT_TRUE(child.running()) << "the run ended before it could be interrupted";
  child.signal(GetParam());
  ASSERT_TRUE(testing::wait_until([&] { return !child.running(); }, std::chrono::seconds(60)))
      << "the run did not stop after the signal";
  const ExitStatus status = child.wait();
  EXPECT_EQ(status.code, 1) << status.str();

  const std::string events = slurp(journal);
  const std::size_t injected = count(events, "\"kind\":\"fault.inject\"");
  EXPECT_GT(injected, 0u);
  EXPECT_EQ(count(events, "\"kind\":\"fault.heal\""), injected) << "a fault was left applied";
  EXPECT_GT(count(events, "\"kind\":\"rollback\""), 0u) << "the rollbacks did not run";

  const auto result = nlohmann::json::parse(slurp(dir / "out" / "redis-failure" / "result.json"));
  EXPECT_EQ(result["verdict"], "unknown");
  EXPECT_NE(result["reasons"].dump().find("interrupted"), std::string::npos) << result["reasons"];
  EXPECT_NE(slurp(dir / "stdout").find("interrupted"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Signals, Interrupt, ::testing::Values(SIGINT, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(info.param == SIGINT ? "SIGINT" : "SIGTERM");
                         });

}  // namespace
}  // namespace faultline::chaos
