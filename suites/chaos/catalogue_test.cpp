// Every catalogue scenario, run as a test case in fake mode (simulated time) and — where the
// machine has the servers — in local mode. Each test records the scenario's covers ids, seed and
// reproduce command, so chaos runs reach the traceability report; each run's outputs stay in the
// test's output directory for the demo to publish.
#include "harness/testing/covers.h"
#include "scenario_support.h"

namespace faultline::chaos::testing {
namespace {

std::filesystem::path out_root() {
  const char* b = std::getenv("FAULTLINE_CHAOS_OUT");
  // Beside the test (ctest runs it in its build directory), where the demo can publish them.
  return b ? std::filesystem::path(b) : std::filesystem::current_path() / "chaos-runs";
}

void run_in(const std::string& name, const std::string& backend) {
  const Scenario modes = load_scenario(scenarios() / (name + ".yaml"), "fake");
  record_covers(modes);
  if (!modes.supports(backend))
    GTEST_SKIP() << name << " does not run on the " << backend << " backend (modes)";
  const Scenario s = load_scenario(scenarios() / (name + ".yaml"), backend);
  if (auto why = unavailable_in_this_build(s)) GTEST_SKIP() << *why;
  const std::uint64_t seed = faultline::testing::run_seed();
  faultline::testing::record_seed(seed);
  ::testing::Test::RecordProperty("chaos_reproduce", reproduce_command(name, seed, backend));
  RunOptions o;
  o.backend = backend;
  o.seed = seed;
  o.out_dir = out_root() / backend / name;
  std::filesystem::remove_all(o.out_dir);
  const RunResult r = run_scenario(s, o);
  if (std::filesystem::exists(r.journal))
    write_outputs(r, Journal::read_file(r.journal), o.out_dir);
  std::string why;
  for (const auto& x : r.reasons) why += "\n  " + x;
  if (backend == "local" && r.verdict == "unknown" && why.find("offers no") != std::string::npos)
    GTEST_SKIP() << why;
  if (backend == "local" && r.verdict == "unknown" &&
      why.find("cannot run on the local backend") != std::string::npos)
    GTEST_SKIP() << why;
  EXPECT_EQ(r.verdict, "pass") << "reproduce: " << r.reproduce << why
                               << "\n  timeline: " << (o.out_dir / "timeline.html").string();
  EXPECT_GT(r.faults_injected, 0);
}

class Fake : public ::testing::TestWithParam<std::string> {};
TEST_P(Fake, Passes) {
  run_in(GetParam(), "fake");
}
INSTANTIATE_TEST_SUITE_P(Catalogue, Fake, ::testing::ValuesIn(catalogue_names()), test_name_of);

class Local : public ::testing::TestWithParam<std::string> {};
TEST_P(Local, Passes) {
  run_in(GetParam(), "local");
}
INSTANTIATE_TEST_SUITE_P(Catalogue, Local, ::testing::ValuesIn(catalogue_names()), test_name_of);

}  // namespace
}  // namespace faultline::chaos::testing
