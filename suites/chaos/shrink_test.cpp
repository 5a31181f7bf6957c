// Shrinking and dry runs. The fixture scenario fails exactly when a latency spike and a read-only
// spell overlap; from a failing six-fault schedule, delta debugging must find those two faults,
// write them as a scenario file, and prove that file fails. A dry run prints the schedule and
// injects nothing.
#include "chaos/engine/shrink.h"
#include "chaos/engine/environment.h"
#include "harness/testing/covers.h"
#include "harness/testing/process_testing.h"
#include "scenario_support.h"

namespace faultline::chaos::testing {
namespace {

bool overlap_bug(const Schedule& s) {
  for (const auto& a : s.faults)
    for (const auto& b : s.faults)
      if (a.kind == "latency" && b.kind == "read-only" && a.at < b.at + b.duration &&
          b.at < a.at + a.duration)
        return true;
  return false;
}

TEST(Shrink, FindsTheTwoOverlappingFaults) {
  const auto file = fixtures() / "overlap-bug.yaml";
  const Scenario sc = load_scenario(file, "fake");
  const stack::Stack stack = load_scenario_stack(sc.stack, fixtures());
  // The first seed (from the run seed on) whose schedule holds the bug among other faults.
  std::uint64_t seed = faultline::testing::run_seed();
  while (!overlap_bug(plan_schedule(sc, stack, "fake", seed))) ++seed;
  faultline::testing::record_seed(seed);
  faultline::testing::TempDir tmp;
  const ShrinkResult r = shrink_scenario(file, seed, tmp.path());
  EXPECT_EQ(r.original.faults.size(), 6u);
  ASSERT_EQ(r.minimal.faults.size(), 2u) << describe_schedule(r.minimal);
  EXPECT_TRUE(overlap_bug(r.minimal)) << describe_schedule(r.minimal);
  EXPECT_EQ(r.proof.verdict, "fail") << "seed " << seed;
  // The written file is a scenario with a fixed method of exactly those faults.
  const Scenario shrunk = load_scenario(r.scenario_file, "fake");
  EXPECT_EQ(shrunk.faults.size(), 2u);
  EXPECT_FALSE(shrunk.random.has_value());
}

TEST(Shrink, RefusesAPassingSeed) {
  const auto file = fixtures() / "overlap-bug.yaml";
  const Scenario sc = load_scenario(file, "fake");
  const stack::Stack stack = load_scenario_stack(sc.stack, fixtures());
  std::uint64_t seed = faultline::testing::run_seed();
  while (overlap_bug(plan_schedule(sc, stack, "fake", seed))) ++seed;
  faultline::testing::TempDir tmp;
  EXPECT_THROW(shrink_scenario(file, seed, tmp.path()), UsageError);
}

TEST(Schedule, SameSeedSameScheduleAndSelectorsChooseFromCandidates) {
  const Scenario sc = load_scenario(fixtures() / "overlap-bug.yaml", "fake");
  const stack::Stack stack = load_scenario_stack(sc.stack, fixtures());
  const auto a = plan_schedule(sc, stack, "fake", 42), b = plan_schedule(sc, stack, "fake", 42);
  EXPECT_EQ(a.to_json(), b.to_json());
  EXPECT_NE(a.to_json(), plan_schedule(sc, stack, "fake", 43).to_json());
  Rng rng(7);
  TargetSelector all{TargetSelector::Mode::all, {}, "", {}};
  TargetSelector majority{TargetSelector::Mode::majority, {"postgres", "redis", "kafka"}, "", {}};
  TargetSelector one_pg{TargetSelector::Mode::one, {}, "postgres", {}};
  EXPECT_EQ(select_targets(all, stack, "fake", rng).size(), stack.services.size());
  EXPECT_EQ(select_targets(majority, stack, "fake", rng).size(), 2u);
  EXPECT_EQ(select_targets(one_pg, stack, "fake", rng), std::vector<std::string>{"postgres"});
  EXPECT_TRUE(select_targets(all, stack, "external", rng).empty());  // nothing chaos-allowed there
}

TEST(DryRun, PrintsTheScheduleAndInjectsNothing) {
  faultline::testing::TempDir tmp;
  const std::string cmd =
      faultline_binary().string() + " chaos run network-partition --dry-run --seed 5 --scenarios " +
      scenarios().string() + " --out " + (tmp.path() / "out").string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) output += buf;
  EXPECT_EQ(WEXITSTATUS(pclose(p)), 0) << output;
  EXPECT_NE(output.find("partition"), std::string::npos) << output;
  EXPECT_NE(output.find("nothing injected"), std::string::npos) << output;
  // No journal, no outputs: the stack was never brought up.
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "out" / "network-partition" / "journal.jsonl"));
  const Scenario sc = load_scenario(scenarios() / "network-partition.yaml", "fake");
  RunOptions o;
  o.dry_run = true;
  o.seed = 5;
  o.out_dir = tmp.path() / "lib";
  const RunResult r = run_scenario(sc, o);
  EXPECT_EQ(r.verdict, "dry-run");
  EXPECT_EQ(r.faults_injected, 0);
  EXPECT_EQ(r.schedule.faults.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(o.out_dir));
}

}  // namespace
}  // namespace faultline::chaos::testing
