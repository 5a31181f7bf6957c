// CodeCoverage: reading gcovr's JSON summary and summing it per requirement's code prefixes.
#include "harness/trace/code_coverage.h"

#include <fstream>

#include <gtest/gtest.h>

#include "harness/core/error.h"
#include "harness/testing/process_testing.h"

namespace faultline::trace {
namespace {

const char* kMatrix = R"(matrix: REQ-T
requirements:
  - id: REQ-T-01
    title: "pool"
    source: s.txt
    code: [harness/clients/postgres/, harness/ops/backup]
    tests: [{id: UT-T-01.1, kind: unit, given: g, when: w, then: t}]
  - id: REQ-T-02
    title: "no code named"
    source: s.txt
    tests: [{id: UT-T-02.1, kind: unit, given: g, when: w, then: t}]
  - id: REQ-T-03
    title: "stale mapping"
    source: s.txt
    code: [harness/gone/]
    tests: [{id: UT-T-03.1, kind: unit, given: g, when: w, then: t}]
)";

const char* kSummary = R"({"files": [
  {"filename": "harness/clients/postgres/pool.cpp", "line_covered": 90, "line_total": 100},
  {"filename": "harness/ops/backup/manager.cpp", "line_covered": 30, "line_total": 50},
  {"filename": "harness/ops/backup_other.cpp", "line_covered": 0, "line_total": 10},
  {"filename": "fakes/redis/server.cpp", "line_covered": 40, "line_total": 40}
], "line_percent": 80.0})";

std::filesystem::path write(const testing::TempDir& dir, const std::string& text) {
  const auto p = dir.path() / "coverage.json";
  std::ofstream(p) << text;
  return p;
}

TEST(CodeCoverage, SumsTheFilesUnderEachRequirementsPrefixes) {
  testing::TempDir dir;
  const Matrix m = parse_matrix(kMatrix, "m.yaml");
  const CodeCoverage c = read_code_coverage(write(dir, kSummary), m, 80);
  EXPECT_EQ(c.total.covered, 160u);
  EXPECT_EQ(c.total.total, 200u);
  EXPECT_TRUE(c.meets_gate());
  // backup_other.cpp is not under harness/ops/backup (a prefix ends at a path component).
  ASSERT_EQ(c.by_requirement.count("REQ-T-01"), 1u);
  EXPECT_EQ(c.by_requirement.at("REQ-T-01").covered, 120u);
  EXPECT_EQ(c.by_requirement.at("REQ-T-01").total, 150u);
  EXPECT_EQ(describe(c, m.requirements[0]),
            "80.0% of 150 lines under harness/clients/postgres/, harness/ops/backup");
  EXPECT_EQ(describe(c, m.requirements[1]), "");
  EXPECT_EQ(describe(c, m.requirements[2]),
            "0.0% of 0 lines under harness/gone/; no file under "
            "harness/gone/");
  EXPECT_EQ(describe_total(c),
            "line coverage 80.0% of 200 lines, each requirement's code at least 80.0% (gate 80%: "
            "met)");
  const CodeCoverage strict = read_code_coverage(write(dir, kSummary), m, 80.5);
  EXPECT_FALSE(strict.meets_gate());
  EXPECT_EQ(strict.under_gate(), std::vector<std::string>{"REQ-T-01"});
  EXPECT_EQ(describe_total(strict),
            "line coverage 80.0% of 200 lines, each requirement's code at least 80.0% (gate "
            "80.5%: NOT met: the total 80.0%, REQ-T-01 80.0%)");
}

TEST(CodeCoverage, ARequirementsCodeUnderTheGateFailsItThoughTheTotalMeetsIt) {
  testing::TempDir dir;
  const Matrix m = parse_matrix(kMatrix, "m.yaml");
  // REQ-T-01's code: 60 of 150 lines (40%); the total: 130 of 200 plus 1,000 covered elsewhere.
  const CodeCoverage c = read_code_coverage(write(dir, R"({"files": [
    {"filename": "harness/clients/postgres/pool.cpp", "line_covered": 30, "line_total": 100},
    {"filename": "harness/ops/backup/manager.cpp", "line_covered": 30, "line_total": 50},
    {"filename": "fakes/redis/server.cpp", "line_covered": 1000, "line_total": 1000}]})"),
                                            m, 80);
  EXPECT_GE(c.total.percent(), 80);
  EXPECT_FALSE(c.meets_gate());
  EXPECT_EQ(describe_total(c),
            "line coverage 92.2% of 1150 lines, each requirement's code at least 40.0% (gate 80%: "
            "NOT met: REQ-T-01 40.0%)");
}

TEST(CodeCoverage, SomethingThatIsNotAGcovrSummaryIsAnInputErrorNamingTheFile) {
  testing::TempDir dir;
  const Matrix m = parse_matrix(kMatrix, "m.yaml");
  for (const char* bad :
       {"not json", "[1, 2]", R"({"files": 3})", R"({"files": [{"line_covered": 1}]})",
        R"({"files": [{"filename": "a", "line_covered": -1, "line_total": 3}]})",
        R"({"files": [{"filename": "a", "line_covered": 5, "line_total": 3}]})"}) {
    const auto p = write(dir, bad);
    try {
      read_code_coverage(p, m, 80);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(read_code_coverage(dir.path() / "missing.json", m, 80), InputError);
}

}  // namespace
}  // namespace faultline::trace
