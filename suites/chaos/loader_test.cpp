// Bad scenario input: each case is one InputError naming the file and line, found before anything
// starts; the CLI prints it on one line and exits 2.
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include "harness/testing/process_testing.h"
#include "scenario_support.h"

namespace faultline::chaos::testing {
namespace {

const char* kGood = R"(scenario: t
modes: [fake, external]
duration: 20s
workloads:
  - workload: orders
    target: postgres
steady-state:
  probes:
    - name: healthy
      probe: service-healthy
      target: postgres
      tolerance: true
method:
  faults:
    - fault: partition
      target: postgres
      at: 5s
      duration: 5s
invariants:
  - check: no-acked-write-lost
    workload: orders
budget:
  max-duration: 1m
)";

// kGood with `from` replaced by `to`.
std::string variant(const std::string& from, const std::string& to) {
  std::string s = kGood;
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

InputError error_of(const std::string& text, const std::string& backend = "fake") {
  try {
    parse_scenario(text, "bad.yaml", backend);
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return InputError({}, "");
}

TEST(ScenarioLoader, GoodFileLoads) {
  const Scenario s = parse_scenario(kGood, "good.yaml", "fake");
  EXPECT_EQ(s.faults.size(), 1u);
  EXPECT_EQ(s.faults[0].at, std::chrono::seconds(5));
}

TEST(ScenarioLoader, EveryCatalogueFileLoads) {
  for (const auto& name : catalogue_names())
    EXPECT_NO_THROW(load_scenario(scenarios() / (name + ".yaml"), "fake")) << name;
}

TEST(ScenarioLoader, UnknownFaultNamesLineAndSuggests) {
  const auto e = error_of(variant("fault: partition", "fault: partiton"));
  EXPECT_EQ(e.where().line, 15);
  EXPECT_NE(e.problem().find("did you mean 'partition'"), std::string::npos) << e.what();
}

TEST(ScenarioLoader, UnknownWorkload) {
  const auto e = error_of(variant("workload: orders\n    target", "workload: ordres\n    target"));
  EXPECT_EQ(e.where().line, 5);
  EXPECT_NE(e.problem().find("did you mean 'orders'"), std::string::npos) << e.what();
}

TEST(ScenarioLoader, UnknownChecker) {
  const auto e = error_of(variant("check: no-acked-write-lost", "check: no-acked-writes-lost"));
  EXPECT_EQ(e.where().line, 20);
  EXPECT_NE(e.problem().find("did you mean"), std::string::npos) << e.what();
}

TEST(ScenarioLoader, UnknownTarget) {
  const auto e = error_of(variant("target: postgres\n      at", "target: postgress\n      at"));
  EXPECT_EQ(e.where().line, 16);
  EXPECT_NE(e.problem().find("did you mean 'postgres'"), std::string::npos) << e.what();
}

TEST(ScenarioLoader, TargetNotChaosAllowedOnExternal) {
  const auto e = error_of(kGood, "external");
  EXPECT_EQ(e.where().line, 16);
  EXPECT_NE(e.problem().find("not chaos-allowed"), std::string::npos) << e.what();
}

TEST(ScenarioLoader, DurationThatDoesNotParse) {
  const auto e = error_of(variant("at: 5s", "at: 5 parsecs"));
  EXPECT_EQ(e.where().line, 17);
  EXPECT_NE(e.problem().find("not a duration"), std::string::npos) << e.what();
}

TEST(ScenarioLoader, ToleranceThatDoesNotParse) {
  const auto e = error_of(variant("tolerance: true", "tolerance: {threshold: \"about 3\"}"));
  EXPECT_EQ(e.where().line, 12);
  EXPECT_NE(e.problem().find("does not parse"), std::string::npos) << e.what();
  const auto r = error_of(variant("tolerance: true", "tolerance: {range: [5, 1]}"));
  EXPECT_EQ(r.where().line, 12);
}

TEST(ScenarioLoader, ScheduleLongerThanBudget) {
  const auto e = error_of(variant("duration: 5s", "duration: 2m"));
  EXPECT_EQ(e.where().line, 15);
  EXPECT_NE(e.problem().find("longer than the budget"), std::string::npos) << e.what();
}

TEST(ScenarioLoader, UnknownKeySuggests) {
  const auto e = error_of(variant("budget:", "budgte:"));
  EXPECT_EQ(e.where().line, 22);
}

TEST(ScenarioLoader, FakeOnlyFaultRefusedOnLocal) {
  const auto e = error_of(variant("fault: partition", "fault: clock-skew"), "local");
  EXPECT_EQ(e.where().line, 15);
}

// The CLI: one line naming file:line, exit 2, nothing started (no output directory made).
TEST(ChaosCli, BadScenarioExitsTwoWithOneLine) {
  faultline::testing::TempDir tmp;
  const std::string cmd = faultline_binary().string() + " chaos run " +
                          (fixtures() / "bad-unknown-fault.yaml").string() + " --out " +
                          (tmp.path() / "out").string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  std::array<char, 512> buf{};
  while (fgets(buf.data(), buf.size(), p)) output += buf.data();
  const int status = pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 2) << output;
  EXPECT_NE(output.find("bad-unknown-fault.yaml:9"), std::string::npos) << output;
  EXPECT_NE(output.find("did you mean 'partition'"), std::string::npos) << output;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "out"));
}

}  // namespace
}  // namespace faultline::chaos::testing
