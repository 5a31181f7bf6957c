#include "harness/trace/results.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "harness/core/error.h"

namespace faultline::trace {
namespace {

const std::string kFixtures = std::string(FAULTLINE_SOURCE) + "/fixtures/trace/results";

const CaseResult& find(const RunResults& r, const std::string& name) {
  for (const auto& c : r.cases) {
    if (c.name == name) return c;
  }
  throw std::runtime_error("no case " + name);
}

TEST(Results, ReadsGoogleTestXmlWithEveryOutcomeAndProperties) {
  RunResults r = read_results(kFixtures + "/fake", "fake");
  ASSERT_EQ(r.cases.size(), 6u);
  const auto& passes = find(r, "Demo.Passes");
  EXPECT_EQ(passes.outcome, Outcome::passed);
  EXPECT_EQ(passes.program, "demo_test");
  EXPECT_EQ(passes.mode, "fake");
  EXPECT_EQ(passes.covers, (std::vector<std::string>{"UT-DEMO-01.1", "IT-DEMO-01"}));
  EXPECT_EQ(passes.property("seed"), "42");
  EXPECT_EQ(passes.property("run_seed"), "42") << "from <testsuites seed=...>";
  const auto& fails = find(r, "Demo.Fails");
  EXPECT_EQ(fails.outcome, Outcome::failed);
  EXPECT_NE(fails.message.find("Which is: 31"), std::string::npos);
  const auto& skips = find(r, "Demo.Skips");
  EXPECT_EQ(skips.outcome, Outcome::skipped);
  EXPECT_NE(skips.message.find("needs root"), std::string::npos);
  EXPECT_TRUE(find(r, "Demo.Untagged").covers.empty());
}

TEST(Results, ReadsCtestJunitAsPrograms) {
  RunResults r = read_results(kFixtures + "/ctest.xml", "ctest");
  EXPECT_TRUE(r.cases.empty());
  ASSERT_EQ(r.programs.size(), 2u);
  EXPECT_EQ(r.programs[1].name, "crash_test");
  EXPECT_EQ(r.programs[1].outcome, Outcome::failed);
}

TEST(Results, MalformedXmlNamesTheFile) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("faultline-results-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "bad.xml") << "<testsuites><testsuite>";
  try {
    read_results(dir, "fake");
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.xml"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "bad.xml") << "<html/>";
  EXPECT_THROW(read_results(dir, "fake"), InputError);
  std::filesystem::remove_all(dir);
}

TEST(Results, ParsesResultsArguments) {
  EXPECT_EQ(parse_results_arg("build/results/fake").second, "fake");
  EXPECT_EQ(parse_results_arg("build/results/fake/").second, "fake");
  auto [dir, mode] = parse_results_arg("out/nightly=staging");
  EXPECT_EQ(dir, "out/nightly");
  EXPECT_EQ(mode, "staging");
  EXPECT_THROW(parse_results_arg("dir="), UsageError);
}

}  // namespace
}  // namespace faultline::trace
