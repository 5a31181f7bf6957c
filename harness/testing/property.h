// check_property: runs a RapidCheck property inside a GoogleTest test and records its seed.
//
// Use instead of RC_GTEST_PROP when the test also declares the ids it covers:
//   TEST(Pool, NeverExceedsMax) {
//     FAULTLINE_COVERS("PT-INFRA-02.1");
//     faultline::testing::check_property([](std::vector<int> ops) { ... });
//   }
// The RapidCheck seed is recorded as `rc_seed`; on failure, the RC_PARAMS string that replays the
// minimal counterexample is recorded as `rc_reproduce` and printed with the failure.
#pragma once

#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <rapidcheck.h>

namespace faultline::testing {

void record_property_outcome(const rc::detail::TestResult& result, const std::string& id);

template <class Testable>
void check_property(Testable&& testable) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  rc::detail::TestMetadata metadata;
  metadata.id = std::string(info->test_suite_name()) + "/" + info->name();
  metadata.description = info->name();
  const auto result = rc::detail::checkTestable(std::forward<Testable>(testable), metadata);
  record_property_outcome(result, metadata.id);
  if (!result.template is<rc::detail::SuccessResult>()) {
    std::ostringstream ss;
    rc::detail::printResultMessage(result, ss);
    ADD_FAILURE() << ss.str();
  }
}

}  // namespace faultline::testing
