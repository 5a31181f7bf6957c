#include "harness/trace/report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace faultline::trace {
namespace {

const std::string kFixtures = std::string(FAULTLINE_SOURCE) + "/fixtures/trace";

class ReportTest : public ::testing::Test {
 protected:
  Report build(bool with_ctest = true) {
    std::vector<RunResults> runs;
    runs.push_back(read_results(kFixtures + "/results/fake", "fake"));
    runs.push_back(read_results(kFixtures + "/results/local", "local"));
    if (with_ctest) runs.push_back(read_results(kFixtures + "/results/ctest.xml", "ctest"));
    return build_report(matrix_, std::move(runs), "2026-11-22T05:00:00Z");
  }
  const IdReport& id(const Report& r, const std::string& test_id) {
    for (const auto& rr : r.requirements) {
      for (const auto& ir : rr.ids) {
        if (ir.test->id == test_id) return ir;
      }
    }
    throw std::runtime_error("no id " + test_id);
  }
  Matrix matrix_ = load_matrix(kFixtures + "/mini-matrix.yaml");
};

TEST_F(ReportTest, StatusPerIdAndMode) {
  Report r = build();
  EXPECT_EQ(r.modes, (std::vector<std::string>{"fake", "local"})) << "ctest adds no column";
  const auto& passed = id(r, "UT-DEMO-01.1");
  EXPECT_EQ(passed.status, IdStatus::passed);
  EXPECT_EQ(passed.by_mode.at("fake"), IdStatus::passed);
  EXPECT_EQ(passed.by_mode.at("local"), IdStatus::passed);
  ASSERT_EQ(passed.covering.size(), 2u);
  EXPECT_EQ(passed.covering[0]->mode, "fake");

  const auto& failed = id(r, "UT-DEMO-02.1");
  EXPECT_EQ(failed.status, IdStatus::failed);
  EXPECT_EQ(failed.by_mode.at("fake"), IdStatus::failed);
  EXPECT_EQ(failed.by_mode.at("local"), IdStatus::skipped);
  EXPECT_NE(failed.reason.find("Which is: 31"), std::string::npos);

  const auto& skipped = id(r, "ET-DEMO-02.1");
  EXPECT_EQ(skipped.status, IdStatus::skipped);
  EXPECT_EQ(skipped.by_mode.at("local"), IdStatus::uncovered);
  EXPECT_NE(skipped.reason.find("needs root"), std::string::npos);

  EXPECT_EQ(id(r, "UT-DEMO-03.1").status, IdStatus::uncovered);
}

TEST_F(ReportTest, RequirementStatusesOrphansUntaggedAndCrashedPrograms) {
  Report r = build();
  ASSERT_EQ(r.requirements.size(), 3u);
  EXPECT_EQ(r.requirements[0].status, RequirementStatus::covered);
  EXPECT_EQ(r.requirements[1].status, RequirementStatus::failing);
  EXPECT_EQ(r.requirements[2].status, RequirementStatus::uncovered);
  ASSERT_EQ(r.orphans.size(), 1u);
  EXPECT_EQ(r.orphans[0].id, "UT-DEMO-09.1");
  ASSERT_EQ(r.untagged.size(), 1u);
  EXPECT_EQ(r.untagged[0]->name, "Demo.Untagged");
  // demo_test failed and its XML shows why; crash_test failed with no XML at all.
  ASSERT_EQ(r.failed_programs.size(), 1u);
  EXPECT_EQ(r.failed_programs[0]->name, "crash_test");
  EXPECT_EQ(r.totals.ids, 6u);
  EXPECT_EQ(r.totals.ids_passed, 3u);
  EXPECT_EQ(r.totals.ids_failed, 1u);
  EXPECT_EQ(r.totals.ids_skipped, 1u);
  EXPECT_EQ(r.totals.ids_uncovered, 1u);
}

TEST_F(ReportTest, PartialWhenSomeIdsAreNotPassing) {
  std::vector<RunResults> runs;
  runs.push_back(read_results(kFixtures + "/results/local", "local"));
  Report r = build_report(matrix_, std::move(runs), "t");
  EXPECT_EQ(r.requirements[0].status, RequirementStatus::covered);
  EXPECT_EQ(r.requirements[1].status, RequirementStatus::partial) << "a skip is not a pass";
}

TEST_F(ReportTest, Gate) {
  EXPECT_EQ(gate(build(), false), 1);
  std::vector<RunResults> runs;
  runs.push_back(read_results(kFixtures + "/results/local", "local"));
  Report clean = build_report(matrix_, std::move(runs), "t");
  EXPECT_EQ(gate(clean, false), 0);
  EXPECT_EQ(gate(clean, true), 1) << "strict: partial and uncovered fail too";
}

TEST_F(ReportTest, JsonCarriesEveryIdWithModesAndSeeds) {
  Report r = build();
  nlohmann::json j = to_json(r);
  EXPECT_EQ(j["totals"]["ids"]["total"], 6);
  const auto& t = j["requirements"][0]["tests"][0];
  EXPECT_EQ(t["id"], "UT-DEMO-01.1");
  EXPECT_EQ(t["modes"]["local"], "passed");
  EXPECT_EQ(t["covering"][0]["seed"], "42");
  EXPECT_EQ(t["covering"][0]["reproduce"],
            "FAULTLINE_SEED=42 demo_test --gtest_filter=Demo.Passes");
  EXPECT_EQ(j["failed_programs"][0]["name"], "crash_test");
  EXPECT_EQ(j["requirements"][1]["derived_from"][0], "demo.txt");
}

}  // namespace
}  // namespace faultline::trace
