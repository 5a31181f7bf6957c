#include "harness/trace/matrix.h"

#include <gtest/gtest.h>

#include <set>

namespace faultline::trace {
namespace {

const std::string kSource = FAULTLINE_SOURCE;

Matrix real_matrix() {
  return load_matrix(kSource + "/fixtures/req-infra.yaml");
}

TEST(Matrix, TheRealMatrixHasTheSeedsIdsAndTheDerivedOnes) {
  Matrix m = real_matrix();
  EXPECT_EQ(m.name, "REQ-INFRA");
  ASSERT_EQ(m.requirements.size(), 8u);
  EXPECT_EQ(m.test_count(), 56u);
  // The 28 ids of seed 002, exactly as it names them.
  std::set<std::string> seed_ids;
  for (int r = 1; r <= 4; ++r) {
    const std::string n = "0" + std::to_string(r);
    for (const char* suffix : {"UT-INFRA-%.1", "UT-INFRA-%.2", "UT-INFRA-%.3", "ET-INFRA-%.1",
                               "ET-INFRA-%.2", "PT-INFRA-%.1", "IT-INFRA-%"}) {
      std::string id = suffix;
      id.replace(id.find('%'), 1, n);
      seed_ids.insert(id);
      EXPECT_NE(m.find_test(id), nullptr) << id;
    }
    EXPECT_FALSE(m.requirements[r - 1].derived());
    EXPECT_EQ(m.requirements[r - 1].source, "002_0340280d77b829a9.txt");
  }
  EXPECT_EQ(seed_ids.size(), 28u);
  for (int r = 5; r <= 8; ++r) {
    EXPECT_TRUE(m.requirements[r - 1].derived()) << m.requirements[r - 1].id;
    EXPECT_EQ(m.requirements[r - 1].tests.size(), 7u);
  }
  EXPECT_EQ(m.requirements[0].title,
            "Docker container orchestration with service dependency management");
  const MatrixTest* t = m.find_test("UT-INFRA-02.2");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->summary(),
            "Given connection pool exhaustion When request_connection() Then queue request and "
            "handle timeout");
  EXPECT_EQ(m.find_test("PT-INFRA-04.1")->summary(),
            "Property: metrics accuracy within 5% tolerance, alert delivery within 30 seconds");
}

struct Broken {
  const char* name;
  std::string text;
  int line;
  const char* message;
};

const char* kHead = "matrix: REQ-T\nrequirements:\n  - id: REQ-T-01\n    title: \"t\"\n";

class BrokenMatrix : public ::testing::TestWithParam<Broken> {};

TEST_P(BrokenMatrix, IsAnInputErrorWithFileAndLine) {
  const Broken& b = GetParam();
  try {
    parse_matrix(b.text, "broken.yaml");
    ADD_FAILURE() << "expected an InputError for " << b.name;
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, "broken.yaml");
    EXPECT_EQ(e.where().line, b.line) << e.what();
    EXPECT_NE(std::string(e.what()).find(b.message), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, BrokenMatrix,
    ::testing::Values(
        Broken{"unknown_key",
               std::string(kHead) +
                   "    source: \"s\"\n    tests:\n      - id: UT-T-01.1\n"
                   "        kind: unit\n        given: \"a\"\n        wehn: \"b\"\n",
               10, "unknown key 'wehn' in a test of REQ-T-01 (did you mean 'when'?)"},
        Broken{"duplicate",
               std::string(kHead) +
                   "    source: \"s\"\n    tests:\n      - id: PT-T-01.1\n        kind: property\n"
                   "        property: \"p\"\n      - id: PT-T-01.1\n        kind: property\n"
                   "        property: \"q\"\n",
               10, "duplicate id 'PT-T-01.1' (first defined on line 7)"},
        Broken{"malformed_id",
               std::string(kHead) + "    source: \"s\"\n    tests:\n      - id: UT-T-1.1\n"
                                    "        kind: unit\n",
               7, "malformed test id 'UT-T-1.1'"},
        Broken{"missing_suffix",
               std::string(kHead) + "    source: \"s\"\n    tests:\n      - id: UT-T-01\n"
                                    "        kind: unit\n",
               7, "UT ids need a .<n> suffix"},
        Broken{"unknown_kind",
               std::string(kHead) + "    source: \"s\"\n    tests:\n      - id: PT-T-01.1\n"
                                    "        kind: fuzz\n",
               8, "unknown test kind 'fuzz'"},
        Broken{"kind_mismatch",
               std::string(kHead) + "    source: \"s\"\n    tests:\n      - id: PT-T-01.1\n"
                                    "        kind: unit\n",
               8, "PT-T-01.1 is a property test by its prefix"},
        Broken{"wrong_requirement",
               std::string(kHead) + "    source: \"s\"\n    tests:\n      - id: IT-T-02\n"
                                    "        kind: integration\n        text: \"x\"\n",
               7, "test id 'IT-T-02' does not belong to REQ-T-01"},
        Broken{"bad_requirement_id",
               "matrix: REQ-T\nrequirements:\n  - id: REQ-T-1\n    title: \"t\"\n", 3,
               "malformed requirement id 'REQ-T-1'"},
        Broken{"no_source",
               std::string(kHead) + "    tests:\n      - id: IT-T-01\n        kind: integration\n"
                                    "        text: \"x\"\n",
               3, "exactly one of 'source'"},
        Broken{"incomplete_gwt",
               std::string(kHead) + "    source: \"s\"\n    tests:\n      - id: ET-T-01.1\n"
                                    "        kind: edge\n        given: \"g\"\n",
               7, "needs all of given, when and then"},
        Broken{"yaml_syntax", "matrix: REQ-T\nrequirements:\n  - id: [unclosed\n", 4, ""},
        Broken{"empty", "", 0, "empty matrix file"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Matrix, MissingFileIsAnInputError) {
  EXPECT_THROW(load_matrix("/nonexistent/req.yaml"), InputError);
}

TEST(Matrix, LooksLikeTestId) {
  EXPECT_TRUE(looks_like_test_id("UT-INFRA-01.1"));
  EXPECT_TRUE(looks_like_test_id("IT-INFRA-08"));
  EXPECT_FALSE(looks_like_test_id("REQ-INFRA-01"));
  EXPECT_FALSE(looks_like_test_id("UT-infra-01.1"));
}

}  // namespace
}  // namespace faultline::trace
