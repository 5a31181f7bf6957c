// Determinism: in fake mode on the simulated clock, the same seed gives the same journal digest.
// Every catalogue scenario that runs in fake mode is run three times with one seed.
#include "harness/testing/covers.h"
#include "harness/testing/process_testing.h"
#include "scenario_support.h"

namespace faultline::chaos::testing {
namespace {

class Determinism : public ::testing::TestWithParam<std::string> {};

TEST_P(Determinism, SameSeedSameDigest) {
  const Scenario s = load_scenario(scenarios() / (GetParam() + ".yaml"), "fake");
  if (!s.supports("fake")) GTEST_SKIP() << GetParam() << " does not run in fake mode";
  if (auto why = unavailable_in_this_build(s)) GTEST_SKIP() << *why;
  const std::uint64_t seed = faultline::testing::run_seed();
  faultline::testing::record_seed(seed);
  const faultline::testing::TempDir dir;  // removed on every exit path, failed ASSERTs included
  std::vector<std::string> digests;
  for (int i = 0; i < 3; ++i) {
    RunOptions o;
    o.seed = seed;
    o.out_dir = dir.path() / std::to_string(i);
    const RunResult r = run_scenario(s, o);
    ASSERT_NE(r.verdict, "unknown") << r.reproduce;
    digests.push_back(r.digest);
  }
  EXPECT_EQ(digests[0], digests[1]) << "reproduce: " << reproduce_command(GetParam(), seed, "fake");
  EXPECT_EQ(digests[0], digests[2]) << "reproduce: " << reproduce_command(GetParam(), seed, "fake");
}

INSTANTIATE_TEST_SUITE_P(Catalogue, Determinism, ::testing::ValuesIn(catalogue_names()),
                         test_name_of);

}  // namespace
}  // namespace faultline::chaos::testing
